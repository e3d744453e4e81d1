"""The canonical model: typed, frozen, I/O-free. Dialects and providers translate to and from it."""
