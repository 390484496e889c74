from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime


class ClusterIdentity(Base):
    """The database's one cluster id, created by the first process to start on it; the shared
    workspaces root holds it in its marker file (cluster/marker.py)."""

    __tablename__ = "cluster"

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cluster_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("key = 1", name="one_row"),)


class ProcessEntry(Base):
    """A process running on this database, renewed while it lives (times from the database clock).

    `secret_fingerprint` is an HMAC of its signing secret, never the secret: processes that sign
    with another secret are refused (auth/secrets.py `fingerprint`).
    """

    __tablename__ = "processes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    roles: Mapped[str] = mapped_column(String(64))
    secret_fingerprint: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
