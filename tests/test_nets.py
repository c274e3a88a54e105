"""labkit.nets: generated datasets and the flat-parameter MLP, checked against torch autograd and finite differences."""
import numpy as np
import pytest

import labkit as lk
from labkit import nets

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def small():
    """A small net (2 -> 5 -> 4 -> 2, 49 parameters) on 12 points, away from init so nothing is degenerate."""
    net = nets.mlp(nets.moons(12, noise=0.2, seed=3), widths=(5, 4), seed=1)
    theta = net.x0 + 0.3 * np.random.default_rng(0).standard_normal(net.n_params)
    return net, theta


# ----------------------------------------------------------------------------- datasets

@pytest.mark.parametrize("make", [nets.moons, nets.spirals])
def test_datasets_shapes_dtypes_and_seeding(make):
    X, y = make(21, seed=4)
    assert X.shape == (21, 2) and X.dtype == np.float64
    assert y.shape == (21,) and y.dtype == np.int64
    assert sorted(np.bincount(y)) == [10, 11]                  # balanced classes
    X2, y2 = make(21, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(21, seed=5)
    assert not np.array_equal(X, X3)


def test_moons_without_noise_lie_on_their_circles():
    X, y = nets.moons(30, noise=0.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, atol=1e-12)


def test_spirals_are_point_symmetric_images():
    X, y = nets.spirals(40, turns=1.5, noise=0.0)
    a, b = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.sort(np.linalg.norm(a, axis=1)), np.sort(np.linalg.norm(b, axis=1)), atol=1e-12)
    # class 1 is class 0 turned by pi: every -b is a point of class 0
    assert max(np.min(np.linalg.norm(a - (-p), axis=1)) for p in b) < 1e-12


@pytest.mark.parametrize("kwargs, match", [(dict(n=1), "n must be"), (dict(noise=-0.1), "noise must be"),
                                           (dict(n=2.5), "n must be")])
def test_dataset_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.moons(**kwargs)


# ----------------------------------------------------------------------------- the MLP

def torch_loss(net, theta):
    """The loss written independently with torch.nn layers and functional_call (the oracle for layout and loss)."""
    theta = torch.as_tensor(theta)
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[net.activation]
    mods, params, off = [], {}, 0
    for i, (fo, fi) in enumerate(zip(net.shapes[::2], net.shapes[1::2])):
        mods += [torch.nn.Linear(fo[1], fo[0], dtype=torch.float64), act()]
        j = 2 * i                                              # index of the Linear in the Sequential
        params[f"{j}.weight"] = theta[off:off + fo[0] * fo[1]].reshape(fo)
        off += fo[0] * fo[1]
        params[f"{j}.bias"] = theta[off:off + fi[0]]
        off += fi[0]
    model = torch.nn.Sequential(*mods[:-1])
    out = torch.func.functional_call(model, params, (torch.as_tensor(net.X),))
    if net.loss == "mse":
        T = torch.nn.functional.one_hot(torch.as_tensor(net.y), out.shape[1]).double()
        return 0.5 * torch.nn.functional.mse_loss(out, T, reduction="sum") / out.shape[0]
    return torch.nn.functional.cross_entropy(out, torch.as_tensor(net.y))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_loss_matches_torch_nn(activation, loss):
    net = nets.mlp(nets.spirals(15, seed=2), widths=(6, 3), activation=activation, loss=loss, seed=2)
    assert net.n_params == 2 * 6 + 6 + 6 * 3 + 3 + 3 * 2 + 2
    assert float(torch_loss(net, net.x0)) == pytest.approx(net.f(net.x0), rel=1e-14)


def test_gradient_and_hessian_against_autograd_and_finite_differences(small):
    net, theta = small
    f, g = net.value_and_grad(theta)
    assert f == pytest.approx(net.f(theta), rel=1e-15)
    np.testing.assert_allclose(g, net.grad(theta), rtol=0, atol=1e-15)
    # autograd through the independent torch.nn oracle
    t = torch.tensor(theta, requires_grad=True)
    H_ref = torch.autograd.functional.hessian(lambda x: torch_loss(net, x), t).numpy()
    (g_ref,) = torch.autograd.grad(torch_loss(net, t), t)
    np.testing.assert_allclose(g, g_ref.numpy(), rtol=1e-12, atol=1e-15)
    H = net.hessian(theta)
    np.testing.assert_allclose(H, H_ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    # central differences of f (gradient) and of grad (Hessian): O(h^2) error
    h = 1e-5
    E = np.eye(net.n_params)
    g_fd = np.array([(net.f(theta + h * e) - net.f(theta - h * e)) / (2 * h) for e in E])
    np.testing.assert_allclose(g, g_fd, rtol=0, atol=1e-9)
    H_fd = np.array([(net.grad(theta + h * e) - net.grad(theta - h * e)) / (2 * h) for e in E])
    np.testing.assert_allclose(H, H_fd, rtol=0, atol=1e-8)


def test_hvp_equals_dense_hessian_times_v(small):
    net, theta = small
    H = net.hessian(theta)
    rng = np.random.default_rng(1)
    op = net.hvp_at(theta)
    for _ in range(3):
        v = rng.standard_normal(net.n_params)
        np.testing.assert_allclose(net.hvp(theta, v), H @ v, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(op(v), H @ v, rtol=1e-12, atol=1e-13)     # graph reused across calls


def test_f_batch_equals_rowwise_f(small):
    net, theta = small
    thetas = theta + 0.5 * np.random.default_rng(2).standard_normal((3, 4, net.n_params))
    fb = net.f_batch(thetas)
    assert fb.shape == (3, 4)
    np.testing.assert_allclose(fb, [[net.f(t) for t in row] for row in thetas], rtol=1e-14)


def test_init_layout_predict_and_problem(small):
    net, theta = small
    blocks = net.unflatten(net.x0)
    assert [b.shape for b in blocks] == [(5, 2), (5,), (4, 5), (4,), (2, 4), (2,)] == list(net.shapes)
    for W, b in zip(blocks[::2], blocks[1::2]):               # torch.nn.Linear's default: U(+-1/sqrt(fan_in))
        assert np.abs(W).max() <= 1 / np.sqrt(W.shape[1]) and np.abs(b).max() <= 1 / np.sqrt(W.shape[1])
    np.testing.assert_array_equal(net.flatten(blocks), net.x0)
    np.testing.assert_array_equal(nets.mlp(nets.moons(12, noise=0.2, seed=3), widths=(5, 4), seed=1).x0, net.x0)
    assert not np.array_equal(nets.mlp(nets.moons(12, noise=0.2, seed=3), widths=(5, 4), seed=2).x0, net.x0)
    out = net.predict(theta)
    assert out.shape == (12, 2)
    np.testing.assert_allclose(net.predict(theta, net.X.reshape(3, 4, 2)).reshape(12, 2), out, rtol=1e-15)
    assert 0.0 <= net.accuracy(theta) <= 1.0
    p = net.problem()
    assert isinstance(p, lk.Problem) and p.dim == net.n_params and p.shapes == net.shapes
    assert p.f(theta) == net.f(theta)
    np.testing.assert_allclose(p.grad(np.stack([theta, theta]))[1], net.grad(theta), atol=0)


def test_regression_targets_and_gd_decreases_loss():
    X = np.linspace(-1, 1, 10)[:, None]
    net = nets.mlp((X, np.sin(3 * X[:, 0])), widths=(8,), seed=0)
    assert net.predict(net.x0).shape == (10, 1)
    th = net.x0.copy()
    for _ in range(200):
        th -= 0.2 * net.grad(th)
    assert net.f(th) < 0.5 * net.f(net.x0)
    with pytest.raises(ValueError, match="accuracy is undefined"):
        net.accuracy(th)


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="tanhh"), r"unknown activation 'tanhh'. Did you mean 'tanh'"),
    (dict(loss="crossentropy"), r"Did you mean 'cross_entropy'"),
    (dict(widths=(4, 0)), "each width must be an integer >= 1"),
    (dict(widths=(4, 2.5)), "each width must be an integer >= 1"),
    (dict(dataset=np.zeros((4, 2))), "dataset must be a pair"),
    (dict(dataset=(np.zeros((4, 2)), np.zeros(3, int))), r"y must have shape \(4,\)"),
    (dict(dataset=(np.zeros((4, 2)), np.zeros(4)), loss="cross_entropy"), "needs integer class labels"),
])
def test_mlp_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.mlp(**kwargs)


def test_wrong_theta_shape(small):
    net, _ = small
    with pytest.raises(ValueError, match=r"theta must have shape \(49,\)"):
        net.grad(np.zeros(3))
    with pytest.raises(ValueError, match=r"thetas must have shape \(..., 49\)"):
        net.f_batch(np.zeros((2, 3)))


def test_import_labkit_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, labkit; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
