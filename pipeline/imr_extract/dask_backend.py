"""`--backend dask`: the same batches, parts and journal as the local backend, run as tasks on a
Dask distributed cluster (a LocalCluster when no scheduler address is given).

Each worker loads the pipeline once (the module-level cache of `batch.init_worker`) and
writes its parts straight into the output folder, which must therefore be on a filesystem that
the workers and this process share. The journal is written here, by one writer only.
"""

from __future__ import annotations

from imr_extract.batch import process_batch
from imr_extract.store import RunStore


def run_dask(
    jobs: list[tuple[list[str], str]],
    common: tuple,
    store: RunStore,
    scheduler: str | None,
    n_workers: int,
    bar,
) -> None:
    """Run each (paths, part) job as a task; `common` is process_batch's other arguments."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=max(n_workers, 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        futures = [
            client.submit(process_batch, paths, part, *common, pure=False) for paths, part in jobs
        ]
        for future in as_completed(futures):
            entries = future.result()
            store.record(entries)
            bar.update(len(entries))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
