"""The developer's room: the local stack behind `make pipeline`, process supervision and the emulator
and double launchers the tests and benchmarks use. No image installs it and no product package imports
it (tests/test_package_imports.py)."""
