"""`--backend dask`: the same batches, parts and journal as the local backend, run as tasks on a
Dask distributed cluster (a LocalCluster when no scheduler address is given).

Each worker loads the pipeline once (the module-level cache of `runner._init_worker`) and
writes its parts straight into the output folder, which must therefore be on a filesystem that
the workers and this process share. The journal is written here, by one writer only.
"""

from __future__ import annotations

from pathlib import Path

from imr_extract.runner import batches, process_batch
from imr_extract.store import RunStore


def run_dask(
    todo: list[Path],
    store: RunStore,
    scheduler: str | None,
    n_workers: int,
    model: str | None,
    max_bytes: int,
    batch_size: int,
    bar,
    docbin: bool = False,
) -> None:
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
        first = int(store.next_part("p")[1:])
        futures = [
            client.submit(
                process_batch,
                [str(p) for p in batch],
                f"p{first + k:06d}",
                str(store.out_dir.resolve()),
                model,
                max_bytes,
                docbin,
                pure=False,
            )
            for k, batch in enumerate(batches(todo, batch_size))
        ]
        for future in as_completed(futures):
            entries = future.result()
            store.record(entries)
            bar.update(len(entries))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
