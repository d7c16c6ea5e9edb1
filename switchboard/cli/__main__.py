"""`python -m switchboard.cli`, as the tests and benchmarks start worker processes."""

from switchboard.cli.main import main

main()
