"""The app's buffered source of request, trace and span ids."""

from __future__ import annotations

import os

from tollhouse.http.app import _RandomHex


def test_draws_are_fresh_hex_across_refills() -> None:
    source = _RandomHex()
    draws = [source.take56() for _ in range(600)]  # more than two refills of 256
    assert all(len(d) == 56 and int(d, 16) >= 0 for d in draws)
    assert len(set(draws)) == len(draws)


def test_a_forked_child_does_not_repeat_its_parent() -> None:
    source = _RandomHex()
    source.take56()  # the buffer is full: a child would otherwise hand out the same ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next draw and leave at once
        os.write(write, source.take56().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 56).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert len(child) == 56
    assert child != source.take56()
