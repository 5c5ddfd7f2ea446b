"""Runs a command on a pseudo-terminal and holds a dialog with it, as a person at a terminal would:
for each [EXPECT, SEND] step, waits until EXPECT has appeared in the output (after the previous
step's) and only then types SEND, so a program that discards typed-ahead input when it asks
(ssh's readpassphrase flushes the terminal) sees each answer. Prints {"raw", "code"} as JSON.

python3 spec/helpers/pty-dialog.py STEPS_JSON TIMEOUT_S -- COMMAND ARGS...
"""
import json
import os
import pty
import select
import sys
import time

steps = json.loads(sys.argv[1])
timeout = float(sys.argv[2])
argv = sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
seen = 0
step = 0
deadline = time.time() + timeout
timed_out = False
while True:
    if step < len(steps):
        at = out.find(steps[step][0].encode(), seen)
        if at >= 0:
            seen = at + len(steps[step][0].encode())
            time.sleep(0.05)
            os.write(fd, steps[step][1].encode())
            step += 1
            continue
    ready, _, _ = select.select([fd], [], [], 0.1)
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    if time.time() > deadline:
        timed_out = True
        os.kill(pid, 9)
        break
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"raw": out.decode("utf-8", "replace"), "code": code, "timedOut": timed_out, "steps": step}))
