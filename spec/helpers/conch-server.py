"""A Twisted Conch server for rxssh's specs (Debian's python3-twisted): the seed's own server, a
real independent SSH implementation, on a loopback port. Runs each exec request through
/bin/sh -c as a child process (Conch's SSHSessionProcessProtocol sends its exit status and
closes the channel). Prints the port on stdout, then serves until stdin closes.
argv: host key file (OpenSSH format), password."""
import sys

from twisted.conch import avatar
from twisted.conch.interfaces import ISession
from twisted.conch.ssh import factory, keys, session
from twisted.cred import checkers, portal
from twisted.internet import reactor, stdio
from twisted.internet.protocol import Protocol
from twisted.python import components
from zope.interface import implementer

KEY = keys.Key.fromFile(sys.argv[1])
PASSWORD = sys.argv[2].encode()


class User(avatar.ConchUser):
    def __init__(self, name):
        avatar.ConchUser.__init__(self)
        self.channelLookup[b'session'] = session.SSHSession


@implementer(ISession)
class Session:
    def __init__(self, user):
        self.process = None

    def getPty(self, term, window_size, modes):
        pass

    def windowChanged(self, window_size):
        pass

    def openShell(self, proto):
        raise NotImplementedError('exec only')

    def execCommand(self, proto, command):
        self.process = reactor.spawnProcess(proto, '/bin/sh', [b'/bin/sh', b'-c', command], env={'PATH': '/usr/bin:/bin'})

    def eofReceived(self):
        if self.process:
            self.process.closeStdin()

    def closed(self):
        pass


components.registerAdapter(Session, User, ISession)


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatar_id, mind, *interfaces):
        return interfaces[0], User(avatar_id), lambda: None


class Factory(factory.SSHFactory):
    publicKeys = {KEY.sshType(): KEY.public()}
    privateKeys = {KEY.sshType(): KEY}


checker = checkers.InMemoryUsernamePasswordDatabaseDontUse()
checker.addUser(b'me', PASSWORD)
Factory.portal = portal.Portal(Realm(), [checker])


class StopOnEof(Protocol):
    def connectionLost(self, reason):
        reactor.stop()


listening = reactor.listenTCP(0, Factory(), interface='127.0.0.1')
print(listening.getHost().port, flush=True)
stdio.StandardIO(StopOnEof())
reactor.run()
