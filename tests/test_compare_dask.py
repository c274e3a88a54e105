"""lk.compare on a dask.distributed LocalCluster (2 worker processes on 127.0.0.1) gives the
same tables as in-process: the recipe for moving a study to a cluster (README)."""
import logging
import os
import time

import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")

import labkit as lk  # noqa: E402
from labkit.compare import Task, algoperf, compare, lr_grid, random_search  # noqa: E402

SUITE = ["rosenbrock", "beale", Task("quadratic", {"eigs": (1.0, 10.0)}, noise=0.3, tol=1e-2)]
RULES = ["adam", lk.optim.sgd(momentum=0.9), "lion"]
PROTOCOLS = [lr_grid(5), random_search(5, seed=4), algoperf(3, 3, seed=5)]


def test_local_cluster_gives_the_same_table():
    from dask.distributed import Client, LocalCluster

    local = compare(SUITE, RULES, PROTOCOLS, horizon=(100, 300), seeds=(0, 1, 2), tol=1e-4, progress=False)
    quiet = {name: logging.getLogger(name).level for name in ("distributed", "tornado")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        # Worker processes inherit the environment: keep them at one Numba thread each.
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=logging.ERROR,
                          env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:
            pids = set(client.run(os.getpid).values())
            assert len(pids) == 2 and os.getpid() not in pids
            remote = compare(SUITE, RULES, PROTOCOLS, horizon=(100, 300), seeds=(0, 1, 2), tol=1e-4,
                             executor=client, progress=False)
    finally:
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    assert remote.runs.equals(local.runs)
    assert remote.table.equals(local.table)
    assert remote.rankings() == local.rankings()
    # The worker processes are gone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
