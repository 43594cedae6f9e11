"""pytest fixtures for the integration tests: each starts a real server
for one test and stops it afterwards, whatever the test did."""
import os
import shutil

import pytest

import harness


REPORTED = set()        # sanitizer reports a test already failed on


@pytest.fixture(autouse=True)
def no_sanitizer_report():
    """Fails the test when a process wrote an AddressSanitizer, LeakSanitizer
    or UBSan report while it ran (harness.SANITIZER_DIR). Set up before and
    so torn down after the test's own fixtures: reports written when the
    daemons stop (leaks) count too."""
    before = set(harness.sanitizer_reports())
    yield
    new = harness.sanitizer_reports(before)
    REPORTED.update(new)
    if new:
        pytest.fail("sanitizer report(s) during the test:\n" + "\n".join(
            "--- %s\n%s" % (name, text[:4000]) for name, text in new.items()), pytrace=False)


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
    """postfix(milters=[...], extra_main_cf={...}, sasl_users={...},
    daemon_name=NAME) -> a started Postfix (with SMTP AUTH for SASL_USERS,
    and a second smtpd whose {daemon_name} is NAME)."""
    def _postfix(milters=(), extra_main_cf=None, sasl_users=None, daemon_name=None):
        return start(harness.Postfix(workdir, milters, extra_main_cf,
                                     sasl_users=sasl_users, daemon_name=daemon_name))
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
    # Reports no test failed on: written between tests or by the
    # processes just killed.
    late = harness.sanitizer_reports(REPORTED)
    if late:
        for name, text in late.items():
            print("\nintegration: sanitizer report %s after the tests:\n%s" % (name, text[:4000]))
        session.exitstatus = 1
    shutil.rmtree(harness.SANITIZER_DIR, ignore_errors=True)
