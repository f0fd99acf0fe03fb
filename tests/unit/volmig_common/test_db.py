"""compare_and_swap: of two racing callers exactly one wins."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from volmig_common import db


class _Base(orm.DeclarativeBase):
    pass


class _Thing(_Base):
    __tablename__ = 'things'
    id = sa.Column(sa.Integer, primary_key=True)
    status = sa.Column(sa.String(16))


@pytest.fixture
def session_factory(tmp_path):
    engine = sa.create_engine('sqlite:///%s' % (tmp_path / 'cas.sqlite'))
    _Base.metadata.create_all(engine)
    with orm.Session(engine) as session, session.begin():
        session.add(_Thing(id=1, status='available'))
    return orm.sessionmaker(engine)


def _swap(factory, expected, new):
    with factory() as session, session.begin():
        return db.compare_and_swap(session, _Thing, {'id': 1},
                                   {'status': expected}, {'status': new})


def test_swaps_only_from_expected(session_factory):
    assert not _swap(session_factory, 'in-use', 'detaching')
    assert _swap(session_factory, 'available', 'attaching')
    assert not _swap(session_factory, 'available', 'deleting')
    assert _swap(session_factory, ('in-use', 'attaching'), 'in-use')


def test_one_of_many_racers_wins(session_factory):
    results = []
    barrier = threading.Barrier(8)

    def racer(n):
        barrier.wait()
        results.append(_swap(session_factory, 'available', 'racer-%d' % n))

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    with session_factory() as session:
        assert session.get(_Thing, 1).status.startswith('racer-')


def test_none_in_expected_means_null(session_factory):
    assert _swap(session_factory, 'available', None)
    assert not _swap(session_factory, ('available',), 'x')
    assert _swap(session_factory, ('available', None), 'in-use')
    assert _swap(session_factory, None, 'y') is False
