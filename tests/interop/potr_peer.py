#!/usr/bin/python3
# purple-otr interop tests: an independent OTR v2 peer (python3-potr +
# python3-slixmpp), driven by a line protocol on stdin, reporting on stdout.
#
#   /usr/bin/python3 potr_peer.py --jid alice@localhost/potr --password pw \
#       --port N --keyfile PATH [--policy never|manual|opportunistic|always]
#       [--host 127.0.0.1] [--max-message-size N] [--debug]
#
# Lines are TAB-separated fields, each escaped with potr_driver.escape()
# (unicode_escape). Commands (stdin):
#   send JID TEXT            through OTR (encrypted if private, else per policy)
#   send-raw JID TEXT        raw XMPP body, no OTR processing
#   start JID                send an OTR query
#   end JID                  end the private conversation (disconnect TLV)
#   smp-ask JID SECRET [QUESTION]
#   smp-respond JID SECRET
#   smp-abort JID
#   trust JID FINGERPRINT_HEX LEVEL   (LEVEL "verified", "smp" or "" = untrusted)
#   fingerprint              print own fingerprint
#   quit
# Events (stdout):
#   own-fingerprint HEX40
#   ready OWN_FULL_JID
#   raw JID BODY             every body received, before OTR processing
#   sent JID BODY            every body sent
#   recv JID ENCRYPTED TEXT  ENCRYPTED is 1 (decrypted) or 0 (plaintext)
#   state JID plaintext|encrypted|finished
#   peer-fingerprint JID HEX40
#   smp JID ask-answer QUESTION | ask-secret | in-progress | success |
#         failure | abort | cheated | error
#   trust JID HEX40 LEVEL
#   error TEXT
#   bye
# JID in events is the peer's bare JID.

import argparse
import asyncio
import base64
import json
import logging
import numbers
import os
import re
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from potr_driver import escape, unescape  # noqa: E402

from potr import context as potr_context, crypt as potr_crypt  # noqa: E402
from potr import proto as potr_proto  # noqa: E402
from potr import compatcrypto as potr_cc  # noqa: E402
from potr.compatcrypto import pycrypto as potr_pycrypto  # noqa: E402
from potr.utils import bytes_to_long, long_to_bytes  # noqa: E402

import slixmpp  # noqa: E402


# ---------------------------------------------------------------------------
# Shims: python3-potr 1.0.2 was written for PyCrypto; Debian 12 ships it with
# pycryptodome(x) 3.11, whose DSA/AES APIs differ.
# ---------------------------------------------------------------------------
def install_potr_shims():
    from Cryptodome.Cipher import AES
    from Cryptodome.PublicKey import DSA

    DSAKey = potr_pycrypto.DSAKey
    if getattr(DSAKey, '_purple_otr_shimmed', False):
        return

    # 1. generate(): potr reads privkey.key.y etc. (PyCrypto's internal
    #    _DSAobj); pycryptodome's DsaKey exposes the components directly.
    def generate(cls):
        key = DSA.generate(1024)
        return cls((key.y, key.g, key.p, key.q, key.x), private=True)
    DSAKey.generate = classmethod(generate)

    # 2. sign()/verify(): PyCrypto's DSA had sign(M, K)/verify(M, (r, s)) on
    #    raw numbers; pycryptodome raises NotImplementedError there and keeps
    #    the same primitives as _sign(int, k)/_verify(int, (r, s)). The
    #    32-byte hash is used as a big-endian integer, exactly like libotr
    #    (gcry_pk_sign on a plain, non-opaque MPI).
    def sign(self, data):
        k = potr_pycrypto.randrange(2, self.priv.q)
        r, s = self.priv._sign(bytes_to_long(data), k)
        return long_to_bytes(r, 20) + long_to_bytes(s, 20)

    def verify(self, data, sig):
        if len(sig) != 40:
            return False
        r, s = bytes_to_long(sig[:20]), bytes_to_long(sig[20:])
        return bool(self.pub._verify(bytes_to_long(data), (r, s)))
    DSAKey.sign = sign
    DSAKey.verify = verify

    # 3. AESCTR(): PyCrypto took counter=<callable returning each block>;
    #    pycryptodome wants nonce + initial_value. potr's Counter is an 8-byte
    #    prefix (the OTR "top half") and an 8-byte block counter.
    Counter = potr_pycrypto.Counter

    def AESCTR(key, counter=0):
        if isinstance(counter, numbers.Number):
            counter = Counter(counter)
        if not isinstance(counter, Counter):
            raise TypeError('AESCTR needs a potr Counter')
        return AES.new(key, AES.MODE_CTR, nonce=counter.byteprefix(),
                       initial_value=counter.val)
    for mod in (potr_pycrypto, potr_cc, potr_crypt):
        mod.AESCTR = AESCTR

    # 4. Unknown TLV types must be ignored (OTR spec); potr raises
    #    UnknownTLV and loses the whole message. A truncated TLV ends the
    #    list (as in libotr) instead of losing the message text.
    def tlv_parse(cls, data):
        tlvs = []
        while len(data) >= 4:
            typ, length = int.from_bytes(data[0:2], 'big'), \
                int.from_bytes(data[2:4], 'big')
            body, data = data[4:4 + length], data[4 + length:]
            if len(body) != length:
                log.warning('truncated TLV (type %d) ignored', typ)
                break
            tlvcls = potr_proto.tlvClasses.get(typ)
            if tlvcls is not None:
                tlvs.append(tlvcls.parsePayload(body))
        return tlvs
    potr_proto.TLV.parse = classmethod(tlv_parse)

    DSAKey._purple_otr_shimmed = True


install_potr_shims()

log = logging.getLogger('potr_peer')

POLICIES = {
    'never': set(),
    'manual': {'ALLOW_V2'},
    'opportunistic': {'ALLOW_V2', 'SEND_TAG', 'WHITESPACE_START_AKE',
                      'ERROR_START_AKE'},
    'always': {'ALLOW_V2', 'REQUIRE_ENCRYPTION', 'WHITESPACE_START_AKE',
               'ERROR_START_AKE'},
}

STATE_NAMES = {
    potr_context.STATE_PLAINTEXT: 'plaintext',
    potr_context.STATE_ENCRYPTED: 'encrypted',
    potr_context.STATE_FINISHED: 'finished',
}

SMP_EXPECTED_STATE = {
    potr_proto.SMP1TLV: 1, potr_proto.SMP1QTLV: 1, potr_proto.SMP2TLV: 2,
    potr_proto.SMP3TLV: 3, potr_proto.SMP4TLV: 4,
}


# characters XML 1.0 does not allow (a stanza with one is not well-formed)
XML_INVALID = re.compile('[^\t\n\r\x20-\ud7ff\ue000-\ufffd'
                         '\U00010000-\U0010ffff]')


def bare(jid):
    return str(jid).split('/', 1)[0]


def _text(data):
    if isinstance(data, str):
        return data
    return bytes(data).decode('utf-8', 'replace')


class Output(object):
    def __init__(self, stream):
        self.stream = stream
        self.lock = threading.Lock()

    def emit(self, *fields):
        line = '\t'.join(escape(_text(f)) for f in fields) + '\n'
        with self.lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                os._exit(3)


OUT = Output(sys.stdout)
emit = OUT.emit


# ---------------------------------------------------------------------------
# potr glue
# ---------------------------------------------------------------------------
class PeerCryptEngine(potr_crypt.CryptEngine):
    """Crossing D-H Commits (both sides started an AKE at once): potr has
    no tie-break, both sides answer each other's commit and wait forever.
    The spec's rule: the higher hash(g^x) keeps its commit and resends it,
    the other answers it. libotr 4.1 (v2), however, answers our commit with
    a D-H Key even when its own hash is higher; so when we yield, we keep
    our own AKE too and continue it if a D-H Key for it arrives."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.yielded_ake = None

    def startAKE(self, appdata=None):
        self.yielded_ake = None
        super().startAKE(appdata=appdata)

    def goEncrypted(self, ake):
        self.yielded_ake = None
        super().goEncrypted(ake)

    def handleAKE(self, inMsg, appdata=None):
        ake = self.ake
        if not self.ctx.getPolicy('ALLOW_V2'):
            return
        if isinstance(inMsg, potr_proto.DHCommit) and ake is not None \
                and ake.state == potr_crypt.STATE_AWAITING_DHKEY:
            if bytes_to_long(ake.hashgx) > bytes_to_long(inMsg.hashgx):
                self.ctx.sendInternal(
                    potr_proto.DHCommit(ake.encgx, ake.hashgx),
                    appdata=appdata)
                return
            self.yielded_ake = ake   # super() answers their commit
        elif isinstance(inMsg, potr_proto.DHKey) and ake is not None \
                and ake.state == potr_crypt.STATE_AWAITING_REVEALSIG \
                and self.yielded_ake is not None \
                and self.yielded_ake.state == \
                potr_crypt.STATE_AWAITING_DHKEY:
            # they answered the commit we had yielded: go on with that one
            self.ake, self.yielded_ake = self.yielded_ake, None
        super().handleAKE(inMsg, appdata=appdata)


class PeerContext(potr_context.Context):
    def __init__(self, account, peername):
        super().__init__(account, peername)
        self.crypto = PeerCryptEngine(self)
        self.pending = []   # plaintexts held back by policy "always"

    def getPolicy(self, key):
        return key in self.user.policy_set

    def inject(self, msg, appdata=None):
        self.user.app.send_body(self.peer, _text(msg))

    def setState(self, newstate, force=False):
        old = self.state
        super().setState(newstate)
        if force or old != newstate:
            emit('state', self.peer, STATE_NAMES.get(newstate, str(newstate)))

    def _wentEncrypted(self):
        key = self.crypto.theirPubkey
        if key is not None:
            emit('peer-fingerprint', self.peer, key.cfingerprint())
        # report every (re-)keying, so a refresh is visible too
        self.setState(potr_context.STATE_ENCRYPTED, force=True)
        # policy "always": messages typed before the session was private
        # wait in self.pending (see PeerApp.send_otr); send them now, in
        # order, after the AKE message potr is about to inject
        pending, self.pending = self.pending, []
        for data in pending:
            self.user.app.loop.call_soon(self.user.app.send_otr,
                                         self.peer, data)

    def handleQuery(self, message, appdata=None):
        # potr starts an AKE on any whitespace tag; libotr only with
        # WHITESPACE_START_AKE (not in "manual")
        if isinstance(message, potr_proto.TaggedPlaintext) and \
                not self.getPolicy('WHITESPACE_START_AKE'):
            return
        super().handleQuery(message, appdata=appdata)

    def processTLVs(self, tlvs, appdata=None):
        for tlv in tlvs:
            if isinstance(tlv, potr_proto.SMPTLV):
                self._handle_smp(tlv, appdata)
            else:
                super().processTLVs([tlv], appdata=appdata)

    def _handle_smp(self, tlv, appdata):
        crypto = self.crypto
        if crypto.smp is None:
            crypto.smp = potr_crypt.SMPHandler(crypto)
        smp = crypto.smp
        kind = type(tlv)
        if kind is potr_proto.SMPABORTTLV:
            smp.handle(tlv, appdata=appdata)
            emit('smp', self.peer, 'abort')
            return
        expected = SMP_EXPECTED_STATE.get(kind)
        before = smp.state
        if expected is None:
            return
        if kind in (potr_proto.SMP3TLV, potr_proto.SMP4TLV):
            # When the secrets differ, potr answers SMP message 3 with an
            # SMP abort (and message 4 with another abort); libotr and the
            # OTR spec send message 4 (and nothing after message 4), so that
            # both sides learn "failure", not "aborted". Do what the spec
            # says; real aborts (bad proofs, wrong state) stay aborts.
            orig_abort = smp.abort

            def abort_unless_failed(appdata=None):
                if smp.prog != potr_crypt.SMPPROG_FAILED:
                    orig_abort(appdata=appdata)
                    return
                smp.state = 1
                if kind is potr_proto.SMP3TLV:
                    mpis = [pow(smp.qab, smp.x3, potr_crypt.DH_MODULUS)]
                    mpis += list(smp.proof_equal_logs(8))
                    smp.sendTLV(potr_proto.SMP4TLV(mpis), appdata=appdata)
            smp.abort = abort_unless_failed
        try:
            smp.handle(tlv, appdata=appdata)
        except Exception as exc:  # malformed numbers etc.
            log.exception('SMP handling failed')
            smp.state = 1
            emit('smp', self.peer, 'error')
            emit('error', '%s: SMP message rejected: %s' % (self.peer, exc))
            return
        finally:
            smp.__dict__.pop('abort', None)
        if before != expected:
            emit('smp', self.peer, 'error')
            return
        if kind in (potr_proto.SMP1TLV, potr_proto.SMP1QTLV):
            if smp.state == 0:
                if kind is potr_proto.SMP1QTLV:
                    emit('smp', self.peer, 'ask-answer', _text(tlv.msg))
                else:
                    emit('smp', self.peer, 'ask-secret')
            else:
                emit('smp', self.peer, 'cheated')
        elif kind is potr_proto.SMP2TLV:
            emit('smp', self.peer,
                 'in-progress' if smp.state == 4 else 'cheated')
        else:
            if smp.prog == potr_crypt.SMPPROG_SUCCEEDED:
                emit('smp', self.peer, 'success')
            elif smp.prog == potr_crypt.SMPPROG_FAILED:
                emit('smp', self.peer, 'failure')
            else:
                emit('smp', self.peer, 'cheated')


class PeerAccount(potr_context.Account):
    contextclass = PeerContext

    def __init__(self, app, name, policy, max_message_size, keyfile):
        super().__init__(name, 'xmpp', max_message_size)
        self.app = app
        self.policy_set = POLICIES[policy]
        self.keyfile = keyfile
        self.trustfile = keyfile + '.trust'
        self._load_trusts()

    # private key: base64 of potr's serialized private key, mode 0600
    def loadPrivkey(self):
        try:
            with open(self.keyfile, 'rb') as f:
                data = base64.b64decode(f.read().strip())
        except FileNotFoundError:
            return None
        return potr_cc.PK.parsePrivateKey(data)[0]

    def savePrivkey(self):
        data = base64.b64encode(self.privkey.serializePrivateKey()) + b'\n'
        _atomic_write(self.keyfile, data)

    def _load_trusts(self):
        try:
            with open(self.trustfile, 'r', encoding='utf-8') as f:
                self.trusts = json.load(f)
        except FileNotFoundError:
            self.trusts = {}
        except ValueError:
            log.warning('ignoring corrupt trust file %s', self.trustfile)
            self.trusts = {}

    def saveTrusts(self):
        data = json.dumps(self.trusts, indent=1, sort_keys=True) + '\n'
        _atomic_write(self.trustfile, data.encode('utf-8'))

    def setTrust(self, key, fingerprint, trustLevel):
        super().setTrust(key, fingerprint, trustLevel)
        emit('trust', key, fingerprint, trustLevel)


def _atomic_write(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------
# XMPP side
# ---------------------------------------------------------------------------
class PeerApp(object):
    def __init__(self, args):
        self.args = args
        self.loop = asyncio.get_event_loop()
        self.quitting = False
        self.done = self.loop.create_future()
        self.full_jid = {}   # bare -> last full JID heard from
        self.account = PeerAccount(self, bare(args.jid), args.policy,
                                   args.max_message_size, args.keyfile)
        self.account.getPrivkey()   # load or generate (and save) now

        xmpp = slixmpp.ClientXMPP(args.jid, args.password)
        xmpp['feature_mechanisms'].unencrypted_plain = True
        xmpp.register_plugin('xep_0030')
        xmpp.register_plugin('xep_0199')
        xmpp.add_event_handler('session_start', self.on_session_start)
        xmpp.add_event_handler('message', self.on_message)
        xmpp.add_event_handler('presence_unavailable', self.on_unavailable)
        xmpp.add_event_handler('failed_auth', self.on_failed_auth)
        xmpp.add_event_handler('connection_failed', self.on_connection_failed)
        xmpp.add_event_handler('disconnected', self.on_disconnected)
        self.xmpp = xmpp

    # -- lifecycle --------------------------------------------------------
    def run(self):
        emit('own-fingerprint', self.own_fingerprint())
        self.xmpp.connect(address=(self.args.host, self.args.port),
                          use_ssl=False, force_starttls=False,
                          disable_starttls=True)
        threading.Thread(target=self.read_stdin, daemon=True).start()
        self.loop.run_until_complete(self.done)
        return self.done.result()

    def finish(self, rc):
        if not self.done.done():
            self.done.set_result(rc)

    def quit(self):
        if self.quitting:
            return
        self.quitting = True

        async def _bye():
            try:
                # flushes the send queue first, then closes the stream
                await asyncio.wait_for(self.xmpp.disconnect(wait=1.0), 3.0)
            except Exception:
                pass
            emit('bye')
            self.finish(0)
        self.loop.create_task(_bye())

    def own_fingerprint(self):
        return self.account.getPrivkey().cfingerprint()

    async def on_session_start(self, _event):
        self.xmpp.send_presence()
        # "ready" means the server has our presence (messages to our bare
        # JID reach us): the server handles a session's stanzas in order,
        # so once an IQ sent after the presence is answered, it's done
        try:
            await self.xmpp.get_roster(timeout=10)
        except Exception as exc:
            emit('error', 'roster request failed: %s' % (exc,))
        emit('ready', str(self.xmpp.boundjid))

    def on_failed_auth(self, _event):
        emit('error', 'xmpp authentication failed for %s' % self.args.jid)
        self.finish(2)

    def on_connection_failed(self, event):
        emit('error', 'xmpp connection failed: %s' % (event,))

    def on_disconnected(self, reason):
        if not self.quitting:
            # e.g. the server restarted: say so, and connect again (a new
            # "ready" follows)
            emit('error', 'xmpp disconnected: %s' % (reason,))
            self.loop.call_later(0.2, self.reconnect)

    def reconnect(self):
        if not self.quitting:
            self.xmpp.connect(address=(self.args.host, self.args.port),
                              use_ssl=False, force_starttls=False,
                              disable_starttls=True)

    def on_unavailable(self, pres):
        frm = str(pres['from'])
        if self.full_jid.get(bare(frm)) == frm:
            del self.full_jid[bare(frm)]

    # -- sending ----------------------------------------------------------
    def destination(self, jid):
        if '/' in jid:
            return jid
        return self.full_jid.get(jid, jid)

    def send_body(self, jid, body):
        bad = XML_INVALID.search(body)
        if bad:
            # the server would close our stream (not-well-formed)
            emit('error', '%s: not sent: character %r is not allowed in XML'
                 % (bare(jid), bad.group()))
            return
        to = self.destination(jid)
        self.xmpp.send_message(mto=to, mbody=body, mtype='chat')
        emit('sent', bare(jid), body)

    def context(self, jid):
        return self.account.getContext(bare(jid))

    def send_otr(self, jid, text):
        ctx = self.context(jid)
        if '/' in jid:
            self.full_jid[bare(jid)] = jid
        data = text if isinstance(text, bytes) else text.encode('utf-8')
        if ctx.state == potr_context.STATE_PLAINTEXT and \
                ctx.getPolicy('REQUIRE_ENCRYPTION') and \
                ctx.parseExplicitQuery(data) is None:
            # not one byte in clear: hold it (potr would keep only the
            # last one, and never send it) and ask for a private session
            # (once: a second query would start a second AKE)
            ctx.pending.append(data)
            if len(ctx.pending) > 1:
                return
            data = b'?OTRv2?'
        try:
            out = ctx.sendMessage(potr_context.FRAGMENT_SEND_ALL, data)
        except potr_context.NotEncryptedError:
            emit('error', '%s: message not sent: the private conversation '
                 'was ended by the peer (end it or restart it)' % ctx.peer)
            return
        if out:
            self.send_body(jid, _text(out))

    # -- receiving --------------------------------------------------------
    def on_message(self, msg):
        frm = str(msg['from'])
        peer = bare(frm)
        if msg['type'] == 'error':
            emit('error', '%s: xmpp error: %s %s' % (
                peer, msg['error']['condition'], msg['error']['text']))
            return
        if msg['type'] not in ('chat', 'normal'):
            return
        body = msg['body']
        if not body:
            return
        if peer == bare(self.xmpp.boundjid):
            return
        self.full_jid[peer] = frm
        emit('raw', peer, body)
        ctx = self.context(peer)
        try:
            text, _tlvs = ctx.receiveMessage(body.encode('utf-8'))
            if text is not None:
                emit('recv', peer, '1', _text(text))
        except (potr_context.NotOTRMessage,
                potr_context.UnencryptedMessage) as exc:
            text = _text(exc.args[0] if exc.args else body)
            if text.startswith(('?OTR:', '?OTR,', '?OTR|')) and \
                    ctx.policyOtrEnabled():
                # potr hands back OTR data it could not parse as if it
                # were plaintext; never show it as a message
                emit('error', '%s: malformed or unsupported OTR message '
                     'ignored' % peer)
            else:
                emit('recv', peer, '0', text)
        except potr_context.ErrorReceived as exc:
            err = exc.args[0]
            emit('error', '%s: OTR error message: %s'
                 % (peer, _text(getattr(err, 'error', err))))
            if ctx.getPolicy('ERROR_START_AKE'):
                self.send_otr(peer, b'?OTRv2?')
        except potr_context.NotEncryptedError:
            emit('error', '%s: unreadable encrypted message (no private '
                 'conversation)' % peer)
        except potr_crypt.InvalidParameterError as exc:
            emit('error', '%s: unreadable or invalid OTR message%s'
                 % (peer, ': %s' % exc if str(exc) else ''))
        except Exception as exc:
            log.debug('receive failed', exc_info=True)
            emit('error', '%s: malformed OTR message rejected: %s: %s'
                 % (peer, type(exc).__name__, exc))

    # -- commands ---------------------------------------------------------
    def read_stdin(self):
        for raw in sys.stdin.buffer:
            line = raw.decode('utf-8', 'replace').rstrip('\r\n')
            if line:
                self.loop.call_soon_threadsafe(self.command, line)
        self.loop.call_soon_threadsafe(self.quit)

    def command(self, line):
        try:
            fields = [unescape(f) for f in line.split('\t')]
        except ValueError as exc:
            emit('error', 'bad command line: %s' % exc)
            return
        name, args = fields[0], fields[1:]
        handler = self.COMMANDS.get(name)
        if handler is None:
            emit('error', 'unknown command: %s' % name)
            return
        func, nmin, nmax = handler
        if not nmin <= len(args) <= nmax:
            emit('error', '%s: wrong number of arguments (%d)'
                 % (name, len(args)))
            return
        try:
            func(self, *args)
        except Exception as exc:
            log.debug('command failed', exc_info=True)
            emit('error', '%s failed: %s: %s'
                 % (name, type(exc).__name__, exc))

    def cmd_send(self, jid, text):
        self.send_otr(jid, text)

    def cmd_send_raw(self, jid, text):
        if '/' in jid:
            self.full_jid[bare(jid)] = jid
        self.send_body(jid, text)

    def cmd_start(self, jid):
        self.send_otr(jid, b'?OTRv2?')

    def cmd_end(self, jid):
        ctx = self.context(jid)
        if ctx.state == potr_context.STATE_ENCRYPTED:
            ctx.disconnect()   # sends the disconnect TLV, -> plaintext
        else:
            ctx.setState(potr_context.STATE_PLAINTEXT, force=True)

    def _encrypted_ctx(self, jid):
        ctx = self.context(jid)
        if ctx.state != potr_context.STATE_ENCRYPTED:
            emit('smp', ctx.peer, 'error')
            emit('error', '%s: SMP needs a private conversation' % ctx.peer)
            return None
        return ctx

    def cmd_smp_ask(self, jid, secret, question=None):
        ctx = self._encrypted_ctx(jid)
        if ctx is None:
            return
        q = question.encode('utf-8') if question else None
        ctx.smpInit(secret.encode('utf-8'), question=q)

    def cmd_smp_respond(self, jid, secret):
        ctx = self._encrypted_ctx(jid)
        if ctx is None:
            return
        smp = ctx.crypto.smp
        if smp is None or smp.state != 0:
            emit('smp', ctx.peer, 'error')
            emit('error', '%s: no SMP question to answer' % ctx.peer)
            return
        ctx.smpGotSecret(secret.encode('utf-8'))

    def cmd_smp_abort(self, jid):
        ctx = self._encrypted_ctx(jid)
        if ctx is None:
            return
        ctx.smpAbort()

    def cmd_trust(self, jid, fingerprint, level=''):
        fp = fingerprint.replace(' ', '').lower()
        if len(fp) != 40 or any(c not in '0123456789abcdef' for c in fp):
            emit('error', 'trust: bad fingerprint %r' % fingerprint)
            return
        self.account.setTrust(bare(jid), fp, level)

    def cmd_fingerprint(self):
        emit('own-fingerprint', self.own_fingerprint())

    def cmd_quit(self):
        self.quit()

    COMMANDS = {
        'send': (cmd_send, 2, 2),
        'send-raw': (cmd_send_raw, 2, 2),
        'start': (cmd_start, 1, 1),
        'end': (cmd_end, 1, 1),
        'smp-ask': (cmd_smp_ask, 2, 3),
        'smp-respond': (cmd_smp_respond, 2, 2),
        'smp-abort': (cmd_smp_abort, 1, 1),
        'trust': (cmd_trust, 2, 3),
        'fingerprint': (cmd_fingerprint, 0, 0),
        'quit': (cmd_quit, 0, 0),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description='OTR v2 test peer (potr)')
    p.add_argument('--jid', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--keyfile', required=True)
    p.add_argument('--policy', default='opportunistic', choices=POLICIES)
    p.add_argument('--max-message-size', type=int, default=0,
                   help='fragment OTR messages longer than this (0 = never)')
    p.add_argument('--debug', action='store_true')
    args = p.parse_args(argv)
    logging.basicConfig(stream=sys.stderr,
                        level=logging.DEBUG if args.debug else logging.WARNING,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    try:
        app = PeerApp(args)
    except Exception as exc:
        emit('error', 'startup failed: %s: %s' % (type(exc).__name__, exc))
        return 2
    return app.run()


if __name__ == '__main__':
    rc = main()
    # The stdin reader is a daemon thread blocked in read(); a normal
    # interpreter shutdown can abort on its buffer lock. Flush and leave.
    logging.shutdown()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(rc if isinstance(rc, int) else 1)
