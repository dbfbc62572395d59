"""Peer scripts and their pinned requirements.

Each ``*_peer.py`` runs in its own environment (made by :mod:`qtrader.bench.envs` from
``requirements-<peer>.txt``), never in QTrader's: it reads the benchmark's CSVs, runs the
SMA(10)/SMA(30) crossover in that library and writes ``date,symbol,side,quantity,price``
fills plus a JSON of its phases and peak memory. They import nothing of QTrader.
"""
