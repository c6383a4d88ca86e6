"""Running synaplast past one process: e-prop networks over MPI ranks (:mod:`.eprop_mpi`)."""
