"""Hot-path benchmarks. Each is a script with ``--quick`` (run by CI); none asserts timings."""
