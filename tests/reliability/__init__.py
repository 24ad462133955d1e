"""The chaos harness: ``python -m tests.reliability [--quick] [--json] [--seed S]``.

Real processes on loopback only (127.0.0.1): a ``kedai-hq serve`` on a SQLite file,
tills as real SQLite files driven through the till's own services and sync agent, a
fault-injecting TCP proxy between them, SIGKILL for crashes. Every loop is bounded. A
run is replayable by its seed (the faults and sales drawn; process scheduling is not).
"""
