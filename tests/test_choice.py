"""The care choice: ``sample_logit`` against the logit probabilities, and what ``utilities`` rules out, on the
prices the price phase gives (``net_prices``)."""

import numpy as np
import pytest
from scipy import stats
from submodel_helpers import elders_with

from sim.data.levels import MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters
from sim.model.choice import choice_terms, current_option, sample_logit, utilities
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED
from sim.model.need import hours_terms
from sim.model.options import N_OPTIONS, O_BED, O_DAY, O_FAMILY, O_HOME, O_PRIVATE, O_PUBLIC, OPTION_SETTING, OPTIONS
from sim.model.prices import WEEKS_PER_MONTH, PriceTerms, net_prices

P = Parameters()


# --- sampling ------------------------------------------------------------------------------------------
def softmax(v: np.ndarray) -> np.ndarray:
    w = np.exp(v - v[np.isfinite(v)].max())
    return w / w.sum()


@pytest.mark.parametrize(
    "row",
    [
        [0.0, -0.8, -1.2, -np.inf, -2.5, 0.3],
        [-np.inf, 1.0, 1.0, 1.0, -np.inf, 0.0],
        [2.0, -1.0, -np.inf, 0.5, -0.2, -np.inf],
        [1000.0, 1000.0 - np.log(3.0), -np.inf, -np.inf, -np.inf, 990.0],  # large utilities do not overflow
    ],
)
def test_choice_frequencies_match_the_logit_probabilities(row):
    n = 200_000
    utility = np.tile(np.array(row), (n, 1))
    choice = sample_logit(utility, np.random.default_rng(1))
    counts = np.bincount(choice, minlength=N_OPTIONS)
    probs = softmax(np.array(row))
    assert counts[probs == 0].sum() == 0  # options ruled out are never chosen
    possible = probs > 0
    chi2 = (((counts - n * probs) ** 2)[possible] / (n * probs[possible])).sum()
    assert chi2 < stats.chi2.ppf(1 - 1e-6, possible.sum() - 1)  # fails by chance once in a million
    # and each share within five standard errors
    assert np.abs(counts / n - probs) == pytest.approx(0, abs=5 * np.sqrt(probs * (1 - probs) / n).max() + 1e-12)


def test_options_ruled_out_are_never_chosen_whatever_the_draw():
    rng = np.random.default_rng(2)
    utility = rng.normal(size=(50_000, N_OPTIONS))
    utility[rng.random(utility.shape) < 0.5] = -np.inf
    choice = sample_logit(utility, rng)
    nothing = np.isinf(utility).all(axis=1)
    assert nothing.any() and (choice[nothing] == O_FAMILY).all()
    assert np.isfinite(utility[np.arange(choice.size), choice][~nothing]).all()


def test_with_nothing_available_an_elder_falls_back_on_family_care():
    utility = np.full((3, N_OPTIONS), -np.inf)
    utility[1, O_PRIVATE] = 0.0
    assert sample_logit(utility, np.random.default_rng(3)).tolist() == [O_FAMILY, O_PRIVATE, O_FAMILY]


def test_one_draw_per_row_in_row_order():
    utility = np.zeros((1000, N_OPTIONS))
    a = sample_logit(utility, np.random.default_rng(4))
    b = sample_logit(utility[:500], np.random.default_rng(4))
    assert np.array_equal(a[:500], b)  # the first rows' choices do not depend on the rows after them
    assert sample_logit(np.zeros((0, N_OPTIONS)), np.random.default_rng(4)).size == 0


def test_sampling_reads_a_view_of_the_utilities_correctly():
    utility = np.full((2000, 2 * N_OPTIONS), -np.inf)
    utility[:, N_OPTIONS + O_DAY] = 0.0  # the second half of each row only
    choice = sample_logit(utility[:, N_OPTIONS:], np.random.default_rng(5))
    assert (choice == O_DAY).all()


# --- utilities -----------------------------------------------------------------------------------------
PRICES = PriceTerms(60.0, 600.0, 2000.0, 1470.0, 2100.0, 0.75, 0.0)
TERMS = choice_terms(P)


def utility_of(
    need=21.0,
    family=28.0,
    public=1800.0,
    private=2700.0,
    eligible=False,
    voucher=0.0,
    destitute=False,
    income=5000.0,
    current=-1,
    burden=0.0,
    level=MODERATE,
    available=(True,) * N_OPTIONS,
    prices=PRICES,
) -> np.ndarray:
    """One elder's utilities by option: its net prices (the price phase), then the choice's weights."""
    return many_utilities(
        np.array([need]),
        np.array([family]),
        np.array([[public, private]]),
        np.array([eligible]),
        np.array([voucher]),
        np.array([destitute]),
        np.array([income]),
        np.array([current], dtype=np.int64),
        np.array([burden], dtype=np.float32),
        np.array([level], dtype=np.int8),
        np.array(available),
        prices,
    )[0]


def many_utilities(need, family, home_price, eligible, voucher, destitute, income, current, burden, level, available,
                   prices=PRICES):  # fmt: skip
    net = net_prices(need, family, home_price, eligible, voucher, destitute, hours_terms(P), prices)
    return utilities(need, family, net, destitute, income, current, burden, level, available, hours_terms(P), TERMS)


def test_utilities_are_constant_plus_cost_over_income_plus_unmet_share():
    u = utility_of(need=42.0, family=14.0, income=10_000.0, level=SEVERE)
    c = TERMS.constant
    home_care = 14 * WEEKS_PER_MONTH * 60
    # family alone: 14 of 42 hours, two thirds unmet, nothing paid
    assert u[O_FAMILY] == pytest.approx(c[O_FAMILY] - 4.0 * 28 / 42)
    # home care: 14 paid hours, family 14 - 0.473 x 14
    assert u[O_HOME] == pytest.approx(c[O_HOME] - 1.5 * home_care / 10_000 - 4.0 * (42 - 14 - 14 * (1 - 0.473)) / 42)
    assert u[O_DAY] == pytest.approx(c[O_DAY] - 1.5 * 600 / 10_000 - 4.0 * (42 - 30 - 0) / 42)
    assert u[O_PUBLIC] == pytest.approx(c[O_PUBLIC] - 1.5 * 1800 / 10_000)
    assert u[O_PRIVATE] == pytest.approx(c[O_PRIVATE] - 1.5 * 2700 / 10_000)
    assert TERMS.constant.tolist() == [P.choice_constant[o] for o in OPTIONS]


def test_what_costs_more_than_the_most_an_elder_can_pay_is_ruled_out():
    u = utility_of(income=1000.0, public=1400.0, private=1600.0)  # can pay 1,500 a month
    assert np.isfinite(u[[O_FAMILY, O_DAY, O_PUBLIC]]).all()
    assert np.isinf(u[[O_HOME, O_BED, O_PRIVATE]]).all()  # 3,640, 2,000 and 1,600 a month
    # what others pay counts: insurance and a voucher bring home care within reach
    u = utility_of(income=1000.0, eligible=True, voucher=1000.0)
    assert np.isfinite(u[O_HOME]) and np.isfinite(u[O_BED])


def test_family_care_alone_is_ruled_out_only_past_the_strain_limit():
    assert np.isfinite(utility_of(burden=1.6)[O_FAMILY])
    assert np.isinf(utility_of(burden=1.61)[O_FAMILY])
    assert np.isfinite(utility_of(burden=1.61)[1:]).all()


def test_day_care_is_ruled_out_at_total_loss_or_without_places():
    assert np.isinf(utility_of(level=TOTAL, need=63.0)[O_DAY])
    assert np.isfinite(utility_of(level=SEVERE, need=42.0)[O_DAY])
    no_places = [o != O_DAY for o in range(N_OPTIONS)]
    u = utility_of(available=no_places)
    assert np.isinf(u[O_DAY]) and np.isfinite(np.delete(u, O_DAY)).all()


def test_options_without_places_or_homes_of_their_kind_are_ruled_out():
    for option in (O_BED, O_PUBLIC, O_PRIVATE):
        available = [o != option for o in range(N_OPTIONS)]
        u = utility_of(available=available)
        assert np.isinf(u[option]) and np.isfinite(np.delete(u, option)).all()


def test_private_homes_are_ruled_out_for_the_destitute_and_public_homes_cost_them_nothing():
    u = utility_of(destitute=True, income=100.0, public=3000.0)
    assert np.isinf(u[O_PRIVATE])
    assert u[O_PUBLIC] == pytest.approx(TERMS.constant[O_PUBLIC])  # destitute support pays it all
    assert np.isfinite(utility_of(destitute=False, income=100_000.0)[O_PRIVATE])


def test_inertia_is_added_to_the_current_option_only():
    base = utility_of()
    for option in range(N_OPTIONS):
        u = utility_of(current=option)
        assert u[option] == pytest.approx(base[option] + P.choice_inertia)
        assert np.array_equal(np.delete(u, option), np.delete(base, option))


def test_family_cash_makes_family_care_more_attractive_for_the_eligible():
    with_cash = PriceTerms(*PRICES[:-1], 500.0)
    u = utility_of(eligible=True, prices=with_cash, income=2000.0)
    assert u[O_FAMILY] == pytest.approx(TERMS.constant[O_FAMILY] + 1.5 * 500.0 / 2000.0)
    assert utility_of(eligible=False, prices=with_cash)[O_FAMILY] == pytest.approx(TERMS.constant[O_FAMILY])


def test_utilities_of_many_elders_are_each_elders_own():
    rng = np.random.default_rng(6)
    n = 40
    args = dict(
        need=rng.choice([7.0, 21.0, 42.0, 63.0], n),
        family=rng.uniform(0, 40, n),
        public=rng.uniform(1000, 4000, n),
        private=rng.uniform(1000, 6000, n),
        eligible=rng.random(n) < 0.5,
        voucher=rng.choice([0.0, 200.0], n),
        destitute=rng.random(n) < 0.2,
        income=rng.uniform(500, 8000, n),
        current=rng.integers(-1, N_OPTIONS, n),
        burden=rng.uniform(0, 2.5, n).astype(np.float32),
        level=rng.integers(MILD, TOTAL + 1, n).astype(np.int8),
    )
    together = many_utilities(
        args["need"],
        args["family"],
        np.stack([args["public"], args["private"]], axis=1),
        args["eligible"],
        args["voucher"],
        args["destitute"],
        args["income"],
        args["current"],
        args["burden"],
        args["level"],
        np.ones(N_OPTIONS, dtype=bool),
    )
    for i in range(n):
        alone = utility_of(**{k: v[i] for k, v in args.items()})
        assert np.array_equal(together[i], alone)


# --- the current option --------------------------------------------------------------------------------
def test_the_current_option_is_the_setting_and_a_public_home_while_waiting():
    settings = [NO_NEED, FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION, FAMILY, NO_NEED]
    elders = elders_with([MILD] * 8, setting=settings, waiting_since=[0, 0, 0, 0, 0, 0, 2021, 2022])
    assert current_option(elders, np.arange(8)).tolist() == [-1, O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC] + [
        O_PUBLIC,
        O_PUBLIC,
    ]
    assert OPTION_SETTING[[O_FAMILY, O_HOME, O_DAY, O_BED]].tolist() == [FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED]
