"""Capacity: who gets what they chose. Care homes admit first: public homes from the waiting list by
priority (destitute, then poor and disabled, then the more dependent, then first come first served),
private homes those who chose them, in random order; a home takes a resident only into a free bed of the
type needed and only if its free staff can look after them. Public-home applicants not admitted stay on
the waiting list. Whoever is not admitted chooses again among the arrangements at home (the logit's odds
among the rest). Family beds and day-care places go to the more dependent first (then at random); whoever
is turned away chooses again without that option.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.data.parameters import Parameters
from sim.model import rules
from sim.model.choice import sample_logit
from sim.model.elders import INSTITUTION, Elders
from sim.model.homes import PUBLIC, Homes, admit, occupancy, resident_load
from sim.model.options import HOME_OPTIONS, O_PUBLIC, OPTION_SETTING


@dataclass
class Admissions:
    """Who entered a care home this year (rows), who entered a public one and when they had joined its
    waiting list, and who is left waiting for one (rows)."""

    rows: np.ndarray
    public: np.ndarray
    public_joined: np.ndarray
    waiting: np.ndarray


@dataclass(frozen=True)
class Placement:
    """Where each chooser ends up this year (new arrays, by chooser): the setting, the care home and bed type
    (-1 at home), the year they joined the public waiting list (0: not waiting), and the admissions."""

    setting: np.ndarray
    home: np.ndarray
    bed: np.ndarray
    waiting_since: np.ndarray
    admissions: Admissions


def place(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    utility: np.ndarray,
    bed: np.ndarray,
    year: int,
    homes: Homes,
    residents: np.ndarray,
    staff: np.ndarray,
    places: dict[int, int],
    p: Parameters,
    rng: np.random.Generator,
) -> Placement:
    """Care homes admit those who chose them (``admit_to_homes``), then those not admitted settle at home
    within the places left (``settle_at_home``)."""
    home, bed_type, waiting_since, admissions = admit_to_homes(
        elders, choosers, choice, bed, year, homes, residents, staff, p, rng
    )
    placed = home >= 0
    at_home = settle_at_home(elders, choosers, choice, utility, placed, places, rng)
    setting = np.where(placed, INSTITUTION, OPTION_SETTING[at_home])
    return Placement(setting, home, np.where(placed, bed_type, -1), waiting_since, admissions)


def admit_to_homes(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    bed: np.ndarray,
    year: int,
    homes: Homes,
    residents: np.ndarray,
    staff: np.ndarray,
    p: Parameters,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Admissions]:
    """Admit those who chose a home (positions in ``choosers``), needing ``bed``, to homes where
    ``residents`` (rows) live. Returns, by chooser, the home and bed type admitted to (-1: not admitted) and
    the year each joined the public waiting list (0: not on it), and the admissions."""
    occupied, load = occupancy(elders, residents, len(homes), p)
    free_beds = homes.beds() - occupied if len(homes) else np.zeros((0, 3), dtype=np.int64)
    free_staff = staff - load
    public_homes = homes.ownership() == PUBLIC if len(homes) else np.zeros(0, dtype=bool)
    joined = np.where(elders.waiting_since[choosers] > 0, elders.waiting_since[choosers], year)
    home = np.full(choosers.size, -1, dtype=np.int64)
    bed_type = np.full(choosers.size, -1, dtype=np.int64)
    admitted = []
    for option in HOME_OPTIONS:
        queue = np.flatnonzero(choice == option)
        rows = choosers[queue]
        if option == O_PUBLIC:
            priority = rules.public_priority(elders.income[rows], elders.level[rows])
            order = np.lexsort((rows, joined[queue], -elders.level[rows], priority))  # rows keep the order of entry
            homes_in_turn = rng.permutation(np.flatnonzero(public_homes))
        else:
            order = rng.permutation(queue.size)
            homes_in_turn = rng.permutation(np.flatnonzero(~public_homes))
        in_turn = queue[order]
        if in_turn.size and homes_in_turn.size:
            got_home, got_bed = admit(
                homes_in_turn, bed[in_turn], resident_load(elders.level[choosers[in_turn]], p), free_beds, free_staff
            )
            home[in_turn], bed_type[in_turn] = got_home, got_bed
            got = in_turn[got_home >= 0]
        else:
            got = np.empty(0, dtype=np.int64)
        admitted.append(choosers[got])
        if option == O_PUBLIC:
            public, public_joined = choosers[got], joined[got]
    waiting = np.flatnonzero((choice == O_PUBLIC) & (home < 0))
    waiting_since = np.zeros(choosers.size, dtype=elders.waiting_since.dtype)
    waiting_since[waiting] = joined[waiting]
    return home, bed_type, waiting_since, Admissions(np.concatenate(admitted), public, public_joined, choosers[waiting])


def settle_at_home(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    utility: np.ndarray,
    placed: np.ndarray,
    places: dict[int, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """The arrangement at home of every chooser not admitted to a home (a new array of options; the admitted
    keep their choice): those not admitted choose again among the arrangements at home, then family beds and
    day-care places are rationed until each holds what it has. ``places``: family beds and day-care places
    free for the choosers."""
    choice, utility = choice.copy(), utility.copy()
    utility[:, list(HOME_OPTIONS)] = -np.inf
    again = np.flatnonzero(~placed & np.isin(choice, HOME_OPTIONS))
    choice[again] = sample_logit(utility[again], rng)
    ration(elders, choosers, choice, utility, ~placed, places, rng)
    return choice


def ration(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    utility: np.ndarray,
    eligible: np.ndarray,
    places: dict[int, int],
    rng: np.random.Generator,
) -> None:
    """Ration each option with limited places among the ``eligible`` choosers who chose it: the more
    dependent first, then at random. An option once full is closed to everyone still choosing; whoever is
    turned away chooses again among the options still open. Repeats until no option has more takers than
    places (each round fills at least one option for good, so it ends)."""
    closed: list[int] = []
    while True:
        over = [o for o in places if int((eligible & (choice == o)).sum()) > places[o]]
        if not over:
            return
        refused = []
        for option in over:
            takers = np.flatnonzero(eligible & (choice == option))
            refused.append(takers[by_priority(elders.level[choosers[takers]], rng)][places[option] :])
            closed.append(option)
        again = np.concatenate(refused)
        utility[np.ix_(again, closed)] = -np.inf
        choice[again] = sample_logit(utility[again], rng)


def by_priority(level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The order in which limited places at home go: the more dependent first, then at random."""
    # one sort on level and a uniform draw below one: the order of a sort on (level, draw), faster
    return np.argsort(rng.random(level.size) - level, kind="stable")


def keep_within(elders: Elders, keepers: np.ndarray, setting: int, places: int, rng: np.random.Generator) -> np.ndarray:
    """Those of ``keepers`` (rows) who must give up their ``setting`` because it now has fewer places
    than they hold (a lever that shrinks): the last by priority."""
    holding = keepers[elders.setting[keepers] == setting]
    if holding.size <= places:
        return np.empty(0, dtype=np.int64)
    return holding[by_priority(elders.level[holding], rng)][max(places, 0) :]
