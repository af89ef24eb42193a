"""The private extension points of uvicorn, python-socketio and python-engineio that
`app.platform.realtime` builds on. pyproject pins these packages below their next major;
when an upgrade inside that range moves one of these, this fails by name, before any
socket misbehaves.
"""

from __future__ import annotations

import inspect

import engineio
import socketio
from engineio import async_socket
from engineio.async_drivers import asgi as engineio_asgi
from uvicorn.protocols.websockets import websockets_sansio_impl

from app.platform.realtime.engine import ConnectionLimits, SocketServer, _EngineServer
from app.platform.realtime.websocket import WebSocketProtocol


def test_socketio_builds_its_engineio_server_through_a_method_we_override() -> None:
    assert callable(getattr(socketio.AsyncServer, "_engineio_server_class", None))
    limits = ConnectionLimits(per_address=1, per_second=1.0, burst=1, send_buffer=65536)
    server = SocketServer(async_mode="asgi", client_ip=lambda scope: "127.0.0.1", connect_timeout=1.0, limits=limits)
    assert isinstance(server.eio, _EngineServer)
    assert server.eio.send_buffer == 65536
    # Admission counts on these two handlers, which socketio registers with engineio as bound methods.
    assert server.eio.handlers["connect"] == server._handle_eio_connect
    assert server.eio.handlers["disconnect"] == server._handle_eio_disconnect


def test_engineio_keeps_its_driver_table_and_queue_factory() -> None:
    server = _EngineServer(async_mode="asgi")
    assert server._async["websocket"].__name__ == "_WebSocket"
    assert callable(getattr(engineio.AsyncServer, "create_queue", None))
    assert "pkt" in inspect.signature(engineio.AsyncServer.send_packet).parameters


def test_engineio_sockets_have_the_fields_the_direct_write_reads() -> None:
    source = inspect.getsource(async_socket.AsyncSocket)
    for name in ("_websocket_handler", "self.queue", "self.closing", "self.upgrading"):
        assert name in source, name
    assert "asgi_send" in inspect.getsource(engineio_asgi.WebSocket)


def test_the_socketio_manager_hooks_we_override_exist() -> None:
    for name in ("_handle_emit", "_publish", "get_participants", "_redis_listen_with_retries", "_redis_connect"):
        assert callable(getattr(socketio.AsyncRedisManager, name, None)), name
    assert callable(getattr(socketio.AsyncServer, "_send_eio_packet", None))
    # An emit tells a lost message by `_publish` answering None (it logs and gives up rather than raise);
    # listening again, our loop uses the client and subscription `_redis_connect` makes.
    publish = inspect.getsource(socketio.AsyncRedisManager._publish)
    assert "return await self.redis.publish(" in publish and "giving up" in publish
    connect = inspect.getsource(socketio.AsyncRedisManager._redis_connect)
    assert "self.pubsub = " in connect and "self.redis = " in connect
    assert "_redis_listen_with_retries()" in inspect.getsource(socketio.AsyncRedisManager._listen)


def test_uvicorns_sansio_protocol_has_a_receive_queue_and_a_writable_flag() -> None:
    source = inspect.getsource(websockets_sansio_impl.WebSocketsSansIOProtocol)
    assert "self.queue" in source and "self.writable" in source
    assert issubclass(WebSocketProtocol, websockets_sansio_impl.WebSocketsSansIOProtocol)
