#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# docker-py (Debian's python3-docker) against a mydockerd: the flows issue 5 names.
# Usage: flows.py unix:///path/to/sock. Prints "ok <flow>" per flow, "skip <flow>: <why>"
# for a flow the daemon does not serve yet (501); exits 1 with the failure otherwise.
import sys
import time

import docker


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    client = docker.DockerClient(base_url=sys.argv[1], version="1.41", timeout=60)

    # containers.run without detach: create, start, logs(follow) and wait; returns the output.
    out = client.containers.run("busybox", ["sh", "-c", "echo hello; echo world"], remove=True)
    check(out == b"hello\nworld\n", "run output: %r" % out)
    print("ok run")

    # A failing command raises ContainerError with the exit status.
    try:
        client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
        raise AssertionError("run of exit 3 did not raise")
    except docker.errors.ContainerError as e:
        check(e.exit_status == 3, "exit status %r" % e.exit_status)
    print("ok run-error")

    # logs(stream=True, follow=True) sees lines written later and ends with the container.
    c = client.containers.run("busybox", ["sh", "-c", "echo l1; sleep 1; echo l2"], detach=True)
    chunks = b"".join(c.logs(stream=True, follow=True))
    check(chunks == b"l1\nl2\n", "streamed logs: %r" % chunks)
    check(c.wait()["StatusCode"] == 0, "wait")
    c.remove()
    print("ok logs-stream")

    # events(decode=True) between since and until.
    since = time.time() - 1
    c = client.containers.run("busybox", ["true"], detach=True, name="pyev")
    c.wait()
    until = time.time() + 0.5
    time.sleep(0.6)
    actions = [
        e["Action"]
        for e in client.events(since=since, until=until, decode=True,
                               filters={"container": "pyev"})
    ]
    check(actions[:1] == ["create"] and "start" in actions and "die" in actions,
          "events: %r" % actions)
    c.remove()
    print("ok events")

    # stats(stream=False).
    c = client.containers.run("busybox", ["sleep", "30"], detach=True)
    s = c.stats(stream=False)
    check(s["memory_stats"]["usage"] > 0, "stats: %r" % s)
    check(s["id"] == c.id, "stats id")
    top = c.top()
    check("Titles" in top and any("sleep" in " ".join(p) for p in top["Processes"]),
          "top: %r" % top)
    print("ok stats-top")

    # exec_run (helper work of issue 5: skipped while the daemon answers 501).
    try:
        r = c.exec_run(["sh", "-c", "echo in-exec; exit 4"])
        check(r.exit_code == 4 and r.output == b"in-exec\n", "exec_run: %r" % (r,))
        print("ok exec-run")
    except docker.errors.APIError as e:
        if e.status_code == 501:
            print("skip exec-run: %s" % e.explanation)
        else:
            raise
    c.remove(force=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - the test reports whatever went wrong
        print("FAIL %s: %s" % (type(e).__name__, e))
        sys.exit(1)
