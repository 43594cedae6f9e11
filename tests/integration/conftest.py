"""pytest fixtures for the integration tests: each starts a real server
for one test and stops it afterwards, whatever the test did."""
import os

import pytest

import harness


@pytest.fixture
def workdir():
    d = harness.TmpDir()
    yield d.path
    d.cleanup()


@pytest.fixture
def start(workdir):
    """start(thing) starts a harness object and stops it at teardown, in
    reverse order of starting."""
    started = []

    def _start(thing):
        started.append(thing)
        return thing.start()

    yield _start
    errors = []
    for thing in reversed(started):
        try:
            thing.stop()
        except Exception as e:      # keep stopping the others
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def postfix(workdir, start):
    """postfix(milters=[...], extra_main_cf={...}) -> a started Postfix."""
    def _postfix(milters=(), extra_main_cf=None):
        return start(harness.Postfix(workdir, milters, extra_main_cf))
    return _postfix


@pytest.fixture
def testmilter(workdir, start):
    """testmilter(kind='unix'|'inet', extra_args=()) -> a started test milter."""
    def _milter(kind="unix", extra_args=(), name="testmilter"):
        return start(harness.testmilter(workdir, kind, extra_args, name))
    return _milter


@pytest.fixture
def dns(workdir, start):
    zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
    files = sorted(os.path.join(zones, f) for f in os.listdir(zones)
                   if f.endswith(".dnsmasq"))
    return start(harness.DNS(workdir, files))


@pytest.fixture
def redis(workdir, start):
    return start(harness.Redis(workdir))


def pytest_sessionfinish(session, exitstatus):
    left = [p for p in harness.STARTED_PIDS if harness.pid_alive(p)]
    for p in left:
        try:
            os.kill(p, 9)
        except OSError:
            pass
    if left:
        print("\nintegration: killed processes left running: %s" % left)
        session.exitstatus = 1
