"""maskgate's benchmark suite, a package so its sections share code: run it with `make bench`."""
