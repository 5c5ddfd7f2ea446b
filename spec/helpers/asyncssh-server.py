"""An AsyncSSH server for rxssh's specs: a real, independent SSH implementation (Debian's
python3-asyncssh), on a loopback port. Prints the port on stdout, then serves until stdin
closes. argv: server_version (the identification string after "SSH-2.0-"), host key file,
password, and optionally --no-strict-kex: behave like AsyncSSH before 2.14.2 (no strict key
exchange; Debian's 2.10 has the Terrapin fix backported, so it is switched off here)."""
import asyncio
import sys
import warnings

warnings.filterwarnings('ignore')
import asyncssh  # noqa: E402
from asyncssh.connection import SSHServerConnection  # noqa: E402

if '--no-strict-kex' in sys.argv[4:]:
    SSHServerConnection._get_extra_kex_algs = lambda self: [b'ext-info-s']


class Server(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return password == sys.argv[3]


async def handle(process):
    process.stdout.write('asyncssh says hi\n')
    process.exit(0)


async def main():
    server = await asyncssh.create_server(
        Server, '127.0.0.1', 0, server_host_keys=[sys.argv[2]], server_version=sys.argv[1], process_factory=handle)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
