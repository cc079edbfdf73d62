"""Hire vs outsource: saved scenarios over the Monte Carlo, their inputs and errors, the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partnerscope.decisions import DEFAULT_INPUTS
from partnerscope.sourcing import charts, services
from partnerscope.sourcing.models import CostScenario
from tests.conftest import client_for


def test_a_scenario_stores_percentiles_curves_break_even_and_tornado(world):
    scenario = services.save_cost_scenario(
        membership=world.owner_m,
        instance=CostScenario(name="Five Java engineers", inputs={"headcount": 5}, n_draws=2000),
    )
    scenario.refresh_from_db()
    result = scenario.result
    assert result["months"] == 36 and result["headcount"] == 5 and result["n_draws"] == 2000
    for option in ("inhouse", "outsource"):
        total = result[option]["total_cost"]
        assert total["p10"] <= total["p50"] <= total["p90"]
        assert len(result[option]["cumulative_cost"]) == 3 and len(result[option]["cumulative_cost"][1]) == 36
    swings = [bar["swing"] for bar in result["tornado"]]
    assert swings == sorted(swings, reverse=True) and len(swings) > 5
    # Stored inputs are complete: every model input, defaults where none was given.
    assert set(scenario.inputs) == set(DEFAULT_INPUTS)


def test_the_same_seed_gives_the_same_result(world):
    def make():
        scenario = CostScenario(name="s", inputs={}, n_draws=500, seed=7)
        return services.save_cost_scenario(membership=world.owner_m, instance=scenario).result

    assert make()["difference"] == make()["difference"]


@pytest.mark.parametrize(
    ("inputs", "field", "text"),
    [
        ({"salary": [200000, 100000, 300000]}, "salary", "low 200000 is above likely 100000"),
        ({"attrition_yearly": 1.5}, "attrition_yearly", "above the maximum"),
        ({"headcount": [1, 2, 3]}, "headcount", "give one number, not a range"),
        ({"salry": 100000}, "inputs", "did you mean 'salary'"),
    ],
)
def test_bad_inputs_are_named(world, inputs, field, text):
    with pytest.raises(ValidationError) as exc:
        services.save_cost_scenario(
            membership=world.owner_m, instance=CostScenario(name="bad", inputs=inputs)
        )
    assert text in " ".join(exc.value.message_dict[field])
    assert not CostScenario.objects.exists()


def test_charts_render_offline_to_svg_images(world):
    scenario = services.save_cost_scenario(
        membership=world.owner_m, instance=CostScenario(name="c", inputs={}, n_draws=300)
    )
    for spec in (charts.cumulative_cost_spec(scenario.result), charts.tornado_spec(scenario.result)):
        uri = charts.svg_data_uri(spec)
        assert uri.startswith("data:image/svg+xml;base64,") and len(uri) > 2000


def test_the_form_shows_each_default_with_its_source_and_refuses_half_ranges(world):
    client = client_for(world, "manager")
    url = reverse("cost_scenario_create", args=["acme"])
    page = client.get(url).content.decode()
    assert "SHRM: 42 days average time to fill" in page
    assert "benefits ≈ 42 % on top of wages" in page
    data = {"name": "Half range", "role": "QA", "n_draws": 500, "seed": 0, "distribution": "triangular"}
    for name, spec in DEFAULT_INPUTS.items():
        value = spec.value
        data[name] = value[1] if isinstance(value, tuple) else value
    data["salary__low"] = 90000  # no high
    response = client.post(url, data)
    assert response.status_code == 400
    assert "give both low and high for a range" in response.content.decode()
    data["salary__high"] = 150000
    data["salary__low"] = 95000
    response = client.post(url, data)
    assert response.status_code == 302
    scenario = CostScenario.objects.get(name="Half range")
    assert scenario.inputs["salary"] == [95000, DEFAULT_INPUTS["salary"].value[1], 150000]
    # Inputs left without a range are single numbers: no spread, no tornado bar.
    assert scenario.inputs["recruiting_cost"] == DEFAULT_INPUTS["recruiting_cost"].value[1]
    assert [bar["input"] for bar in scenario.result["tornado"]] == ["salary"]
    detail = client.get(reverse("cost_scenario_detail", args=["acme", scenario.uid])).content.decode()
    assert "data:image/svg+xml;base64," in detail and "Break-even" in detail
