"""Service hours: a ledger per volunteer, credited once per source, and rewards bought with
it that can never overspend (the database's CHECKs decide, not a read-then-write)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.errors import Conflict, Unprocessable, not_found
from app.models import Redemption, Region, Reward, ServiceAccount, ServiceEntry, Volunteer
from app.models.service import HoursSource
from app.schemas.service import RewardCreate, RewardUpdate
from app.security import Principal
from app.services.scope import get_scoped, region_by_code_in_scope, visible


def minutes_served(start: datetime, end: datetime, *, round_to: int, minimum: int) -> int:
    """Time served, rounded up to ``round_to`` minutes and at least ``minimum``."""
    elapsed = max((end - start) / timedelta(minutes=1), 0.0)
    return max(minimum, math.ceil(elapsed / round_to) * round_to)


def _ensure_account(session: Session, volunteer_id: int) -> None:
    session.execute(dialect_insert(session.get_bind().dialect.name, ServiceAccount)
                    .values(volunteer_id=volunteer_id, earned_minutes=0, balance_minutes=0)
                    .on_conflict_do_nothing(index_elements=["volunteer_id"]))


def credit(session: Session, volunteer_id: int, *, source: HoursSource, source_id: int | None,
           minutes: int, at: datetime, note: str = "") -> bool:
    """Credit minutes once per (volunteer, source, source_id); False if already credited."""
    if minutes <= 0:
        raise ValueError("a credit is positive")
    try:
        with session.begin_nested():
            session.add(ServiceEntry(volunteer_id=volunteer_id, source=source.value,
                                     source_id=source_id, minutes=minutes, note=note, at=at))
    except IntegrityError:
        return False
    _ensure_account(session, volunteer_id)
    session.execute(update(ServiceAccount).where(ServiceAccount.volunteer_id == volunteer_id)
                    .values(earned_minutes=ServiceAccount.earned_minutes + minutes,
                            balance_minutes=ServiceAccount.balance_minutes + minutes))
    return True


def account(session: Session, volunteer_id: int) -> ServiceAccount:
    found = session.get(ServiceAccount, volunteer_id)
    return found or ServiceAccount(volunteer_id=volunteer_id, earned_minutes=0,
                                   balance_minutes=0)


def entries_query(volunteer_id: int) -> Select:
    return (select(ServiceEntry).where(ServiceEntry.volunteer_id == volunteer_id)
            .order_by(ServiceEntry.at.desc(), ServiceEntry.id.desc()))


def redeem(session: Session, volunteer_id: int, reward_id: int, *, now: datetime
           ) -> Redemption:
    """Spend hours on a reward offered in the volunteer's area. Two conditional UPDATEs
    guarded by CHECK constraints: concurrent redemptions serialise on the account row and
    the loser gets 409, never a negative balance or stock."""
    volunteer = session.get(Volunteer, volunteer_id)
    reward = session.get(Reward, reward_id)
    if reward is None or not reward.active or not _offered_to(session, reward, volunteer):
        raise not_found("reward", reward_id, field="reward_id")
    cost = reward.cost_minutes
    try:
        with session.begin_nested():
            spent = session.execute(
                update(ServiceAccount).where(ServiceAccount.volunteer_id == volunteer_id)
                .values(balance_minutes=ServiceAccount.balance_minutes - cost))
            if spent.rowcount == 0:
                raise _insufficient(cost)
            session.execute(update(Reward).where(Reward.id == reward_id,
                                                 Reward.stock.is_not(None))
                            .values(stock=Reward.stock - 1))
    except IntegrityError as exc:
        if "stock" in str(exc.orig):
            raise Conflict("this reward is out of stock", field="reward_id",
                           code="out_of_stock") from exc
        raise _insufficient(cost) from exc
    redemption = Redemption(volunteer_id=volunteer_id, reward_id=reward_id,
                            cost_minutes=cost, at=now)
    session.add(redemption)
    session.flush()
    session.add(ServiceEntry(volunteer_id=volunteer_id, source=HoursSource.redemption.value,
                             source_id=redemption.id, minutes=-cost, note=reward.name, at=now))
    session.flush()
    return redemption


def _insufficient(cost: int) -> Conflict:
    return Conflict(f"not enough service hours: this reward costs {cost / 60:g} h",
                    field="reward_id", code="insufficient_hours")


def _offered_to(session: Session, reward: Reward, volunteer: Volunteer) -> bool:
    """A reward is offered to volunteers of its region's subtree."""
    offered = session.get(Region, reward.region_id)
    home = session.get(Region, volunteer.region_id)
    return home.path.startswith(offered.path)


def rewards_for_volunteer_query(session: Session, volunteer_id: int) -> Select:
    home = session.get(Region, session.get(Volunteer, volunteer_id).region_id)
    ancestors = [home.path[:i] for i in range(1, len(home.path) + 1)
                 if home.path[i - 1] == "/"]
    return (select(Reward).join(Region, Region.id == Reward.region_id)
            .where(Reward.active.is_(True), Region.path.in_(ancestors))
            .order_by(Reward.cost_minutes, Reward.id))


def rewards_query(session: Session, principal: Principal, *, region_code: str | None) -> Select:
    return (select(Reward).where(visible(session, Reward.region_id, principal,
                                         within_code=region_code))
            .order_by(Reward.id))


def create_reward(session: Session, data: RewardCreate, *, principal: Principal) -> Reward:
    region = region_by_code_in_scope(session, data.region_code, principal, field="region_code")
    reward = Reward(name=data.name, description=data.description,
                    cost_minutes=data.cost_minutes, stock=data.stock,
                    active=data.active, region_id=region.id)
    session.add(reward)
    session.flush()
    return reward


def update_reward(session: Session, reward_id: int, data: RewardUpdate, *,
                  principal: Principal) -> Reward:
    reward = get_scoped(session, Reward, reward_id, principal, entity="reward",
                        field="reward_id")
    changes = data.model_dump(exclude_unset=True)
    for key in ("name", "cost_minutes", "active"):
        if key in changes and changes[key] is None:
            raise Unprocessable(f"{key} cannot be null", field=key)
    for key, value in changes.items():
        setattr(reward, key, value)
    session.flush()
    return reward
