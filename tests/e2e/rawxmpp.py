# purple-otr - GPL-2.0-or-later (see COPYING)
# A plain XMPP client for the end-to-end tests: slixmpp (python3-slixmpp)
# running its asyncio loop in a thread of its own, driven from the test's
# thread. It has no OTR and no libpurple: it stands for another device of a
# user (a phone with carbons on) or for a peer whose exact stanzas the test
# reads. Every <message/> it receives is kept as an ElementTree element.

import asyncio
import copy
import logging
import threading
import time
import xml.etree.ElementTree as ET

import harness
from harness import DEFAULT_TIMEOUT, HarnessError

NS_CLIENT = 'jabber:client'
NS_CARBONS = 'urn:xmpp:carbons:2'
NS_HINTS = 'urn:xmpp:hints'
NS_EME = 'urn:xmpp:eme:0'
NS_FORWARD = 'urn:xmpp:forward:0'
NS_DELAY = 'urn:xmpp:delay'
NS_PING = 'urn:xmpp:ping'


def available():
    try:
        import slixmpp  # noqa: F401
    except ImportError:
        return False
    return True


class Stanza(object):
    """One received <message/>: .element (ElementTree, namespaced tags),
    .xml (as text), .index, and helpers for the tests."""

    def __init__(self, element, index):
        self.element = element
        self.index = index
        self.xml = ET.tostring(element, encoding='unicode')

    def child(self, name, xmlns=NS_CLIENT):
        return self.element.find('{%s}%s' % (xmlns, name))

    def has_child(self, name, xmlns):
        return self.child(name, xmlns) is not None

    @property
    def body(self):
        node = self.child('body')
        return None if node is None else (node.text or '')

    @property
    def from_(self):
        return self.element.get('from', '')

    @property
    def to(self):
        return self.element.get('to', '')

    def carbon(self):
        """('sent' | 'received', forwarded <message/> element) for a
        XEP-0280 carbon copy, else None."""
        for kind in ('sent', 'received'):
            wrapper = self.child(kind, NS_CARBONS)
            if wrapper is None:
                continue
            inner = wrapper.find('{%s}forwarded/{%s}message' % (NS_FORWARD, NS_CLIENT))
            return kind, inner
        return None

    def __repr__(self):
        return 'Stanza(%s)' % self.xml


def body_of(element):
    node = element.find('{%s}body' % NS_CLIENT) if element is not None else None
    return None if node is None else (node.text or '')


class RawClient(object):
    """A slixmpp client on loopback: connect(), then send_message(),
    enable_carbons(), flush(); received messages in .messages, waited for
    with wait_message(). close() (or harness cleanup) disconnects."""

    def __init__(self, name, jid, password, port, priority=0):
        if isinstance(port, harness.Prosody):
            port = port.port
        self.name = name
        self.jid = jid
        self.password = password
        self.port = port
        self.priority = priority
        self.domain = harness.bare_jid(jid).split('@', 1)[-1]
        self.messages = []
        self._cond = threading.Condition()
        self._claimed = set()
        self._loop = None
        self._xmpp = None
        self._thread = None
        self._ready = threading.Event()
        self._failure = None
        self._closed = threading.Event()
        harness._register(self)

    # -- thread and loop -------------------------------------------------

    def connect(self, timeout=DEFAULT_TIMEOUT):
        """Connect, authenticate, bind, send available presence (with
        self.priority); returns when the session is ready."""
        self._thread = threading.Thread(target=self._run, name='raw-' + self.name,
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._failure:
            why = self._failure or 'timed out after %.0fs' % timeout
            self.close()
            raise HarnessError('%s: XMPP session failed: %s' % (self.name, why))
        return self

    def _run(self):
        import slixmpp
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath

        logging.getLogger('slixmpp').setLevel(
            logging.DEBUG if harness.PURPLE_DEBUG else logging.CRITICAL)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        xmpp = slixmpp.ClientXMPP(self.jid, self.password)
        xmpp.loop = loop
        xmpp.auto_authorize = None      # subscriptions are not this client's business
        xmpp.register_handler(Callback('raw message', MatchXPath('{%s}message' % NS_CLIENT),
                                       self._on_message))
        xmpp.add_event_handler('session_start', self._on_session_start)
        xmpp.add_event_handler('failed_auth', lambda *a: self._fail('authentication failed'))
        xmpp.add_event_handler('connection_failed', lambda *a: self._fail('connection failed'))
        xmpp.add_event_handler('disconnected', lambda *a: self._fail('disconnected'))
        self._xmpp = xmpp
        try:
            xmpp.connect(('127.0.0.1', self.port), use_ssl=False, force_starttls=False,
                         disable_starttls=True)
            loop.run_forever()
        finally:
            # slixmpp leaves tasks waiting on its queues: end them before
            # the loop closes, or they complain at garbage collection
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            try:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            loop.close()
            self._closed.set()
            with self._cond:
                self._cond.notify_all()

    def _fail(self, why):
        if not self._ready.is_set():
            self._failure = why
            self._ready.set()

    def _on_session_start(self, event):
        self._xmpp.send_presence(ppriority=self.priority)
        self._ready.set()

    def _on_message(self, stanza):
        with self._cond:
            msg = Stanza(copy.deepcopy(stanza.xml), len(self.messages))
            self.messages.append(msg)
            self._cond.notify_all()
        if harness.DEBUG:
            import sys
            sys.stderr.write('# [%s] %s\n' % (self.name, msg.xml))

    def _call(self, coro_func, timeout):
        """Run coro_func() on the client's loop; its result, or raise."""
        if self._loop is None or self._closed.is_set():
            raise HarnessError('%s: not connected' % self.name)
        future = asyncio.run_coroutine_threadsafe(coro_func(), self._loop)
        try:
            return future.result(timeout)
        except Exception as e:  # noqa: BLE001 - reported with context
            future.cancel()
            raise HarnessError('%s: %s' % (self.name, e or type(e).__name__))

    # -- actions -----------------------------------------------------------

    def send_message(self, to, body, mtype='chat', extra_xml=None, timeout=DEFAULT_TIMEOUT):
        """Send a <message/> with a plain-text body, and EXTRA_XML (one
        element, as text: e.g. an XHTML-IM <html/>) as a further child."""
        async def send():
            msg = self._xmpp.make_message(mto=to, mbody=body, mtype=mtype)
            if extra_xml is not None:
                msg.xml.append(ET.fromstring(extra_xml))
            msg.send()
        self._call(send, timeout)

    def send_raw(self, xml, timeout=DEFAULT_TIMEOUT):
        """Send XML as it is (a crafted stanza; the stream's default
        namespace is jabber:client)."""
        async def send():
            self._xmpp.send_raw(xml)
        self._call(send, timeout)

    def _iq(self, kind, child, to=None, timeout=DEFAULT_TIMEOUT):
        async def run():
            iq = self._xmpp.make_iq_set(ito=to) if kind == 'set' \
                else self._xmpp.make_iq_get(ito=to)
            iq.xml.append(ET.Element(child))
            return await iq.send(timeout=timeout)
        return self._call(run, timeout + 1)

    def enable_carbons(self, timeout=DEFAULT_TIMEOUT):
        """XEP-0280: ask the server for carbon copies (waits for the result)."""
        self._iq('set', '{%s}enable' % NS_CARBONS, timeout=timeout)

    def disco_features(self, jid, timeout=DEFAULT_TIMEOUT):
        """XEP-0030: the feature namespaces JID announces (a set)."""
        ns = 'http://jabber.org/protocol/disco#info'
        result = self._iq('get', '{%s}query' % ns, to=jid, timeout=timeout)
        return {f.get('var') for f in result.xml.iter('{%s}feature' % ns)}

    def flush(self, timeout=DEFAULT_TIMEOUT):
        """XMPP ping round trip to the server: afterwards every stanza the
        server routed to this client before has been recorded."""
        self._iq('get', '{%s}ping' % NS_PING, to=self.domain, timeout=timeout)

    # -- received messages -------------------------------------------------

    def mark(self):
        with self._cond:
            return len(self.messages)

    def find(self, pred, since=0):
        with self._cond:
            return [m for m in self.messages[since:] if pred(m)]

    def wait_message(self, pred, timeout=DEFAULT_TIMEOUT, since=0):
        """The first unclaimed received message (index >= since) for which
        pred(Stanza) is true, waiting for it up to timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages[since:]:
                    if m.index not in self._claimed and pred(m):
                        self._claimed.add(m.index)
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self._closed.is_set():
                    break
                self._cond.wait(min(left, 0.5))
            recent = '\n'.join('  ' + m.xml for m in self.messages[-10:])
        raise HarnessError('%s: no matching message in %.0fs; last received:\n%s'
                           % (self.name, timeout, recent))

    # -- shutdown ------------------------------------------------------------

    def close(self, timeout=5.0):
        """Disconnect (closing the stream) and stop the thread."""
        loop = self._loop
        if loop is not None and not self._closed.is_set():
            def stop():
                try:
                    self._xmpp.abort()
                finally:
                    loop.stop()
            try:
                loop.call_soon_threadsafe(stop)
            except RuntimeError:
                pass      # loop already closed
        if self._thread is not None:
            self._thread.join(timeout)
        harness._unregister(self)

    kill = close
