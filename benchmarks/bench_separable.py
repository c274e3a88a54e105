"""Kernel time per event of SeparableExplorer (Agg canvas: the blit path ipympl uses), and lk.separable /
lk.radius building blocks.  Run: .venv/bin/python benchmarks/bench_separable.py"""
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

import labkit as lk  # noqa: E402
from labkit import radius as rad  # noqa: E402
from labkit import separable as sep  # noqa: E402
from labkit.widgets.separable import SeparableExplorer  # noqa: E402


def per_call(fn, args, repeat=1):
    out = []
    for a in args:
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn(a)
        out.append((time.perf_counter() - t0) / repeat)
    return np.array(out)


def main():
    t0 = time.perf_counter()
    ex = SeparableExplorer(steps=200)
    print(f"SeparableExplorer(steps=200): construct {1e3 * (time.perf_counter() - t0):.0f} ms")
    ex.fig.canvas.draw()                                  # first display: caches the blit background
    gammas = np.geomspace(0.1, 1e6, 40)
    tg = per_call(lambda g: ex.update(gamma=g), gammas)
    print(f"lr (gamma) slider move: median {1e3 * np.median(tg):.1f} ms, max {1e3 * tg.max():.1f} ms (40 values)")
    tt = per_call(lambda t: ex.update(t=int(t)), np.arange(0, 200, 5))
    print(f"step slider move:       median {1e3 * np.median(tt):.1f} ms, max {1e3 * tt.max():.1f} ms")
    p = lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=0)
    t0 = time.perf_counter()
    sep.large_step_sweep(p, steps=500)
    print(f"large_step_sweep(7 gammas, 500 steps): {1e3 * (time.perf_counter() - t0):.1f} ms")
    s = lk.problems.softmax_regression(n=200, d=5, k=3, seed=0)
    x, g = s.x0, s.grad(s.x0)
    tr = per_call(lambda _: rad.softmax_radius(s, x, -g), range(5), repeat=200)
    print(f"softmax_radius (softmax regression n=200): {1e6 * np.median(tr):.0f} us")
    net = lk.nets.mlp(lk.nets.moons(60, 0.1, 0), (16, 16), "tanh", "cross_entropy", 0)
    v = np.ones(net.n_params)
    tr = per_call(lambda _: rad.softmax_radius(net, net.x0, v), range(5), repeat=50)
    print(f"softmax_radius (MLP 16x16, one torch.func.jvp): {1e6 * np.median(tr):.0f} us")


if __name__ == "__main__":
    main()
