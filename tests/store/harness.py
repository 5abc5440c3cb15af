"""What the store checks share: counted checks and running the binary."""
import subprocess

counts = {"passed": 0, "failed": 0}


def check(what, ok, detail=""):
    """Count one assertion; print what failed (cut, for huge details)."""
    if ok:
        counts["passed"] += 1
    else:
        counts["failed"] += 1
        print(f"FAIL {what} {detail}"[:2000])


def run(args, **kw):
    return subprocess.run(args, capture_output=True, check=False, **kw)


def summary():
    """The closing line ctest's log shows; the exit status."""
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0
