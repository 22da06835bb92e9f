"""Xuncha's wire protocol, shared by the server and every client: no Flask, no database, no I/O."""

from sync_protocol.problems import PROBLEM_MEDIA_TYPE, ProblemCode

__all__ = ["PROBLEM_MEDIA_TYPE", "ProblemCode"]
