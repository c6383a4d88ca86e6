"""Past one machine on Dask: sharded memories, block-wise storage, sweeps.

* :class:`ShardedAssociativeMemory`: an associative memory sharded by
  content units over Dask actors, bit-identical to
  :class:`~synaplast.AssociativeMemory`.
* :mod:`.eprop_mpi`: e-prop networks over MPI ranks (the ``mpi`` extra);
  the e-prop estimators use it with ``distributed="mpi"``.
* :func:`fit_blocks`: store a ``dask.array`` of patterns block by block in
  separate memories and merge them exactly.

Needs the ``distributed`` extra (``pip install synaplast[distributed]``).
Model selection on a cluster needs nothing from here: synaplast's estimators
pickle, so ``GridSearchCV`` runs under ``joblib.parallel_backend("dask")``,
and each worker's kernels use the threads the worker was given (see
:func:`synaplast.set_num_threads`). See ``docs/distributed.md``.
"""

from synaplast.distributed.blocks import fit_blocks
from synaplast.distributed.sharded import ShardedAssociativeMemory, ShardLostError

__all__ = ["ShardLostError", "ShardedAssociativeMemory", "fit_blocks"]
