"""Benchmarks/run: Conduit beside a peer, bare Hummingbird beside Keel's stack, in one run (see `driver`)."""
