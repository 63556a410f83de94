"""The catalogue: items with prices and GST, archive and restore, funders' item numbers."""

from __future__ import annotations

import pytest
from billing_world import World, make_world

from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.vocab import CatalogueKind
from frontdesk.services import billing
from frontdesk.services.billing.catalogue import funder_prices, remove_funder_price
from frontdesk.services.billing.invoices import line_from_catalogue
from frontdesk.store.context import ServiceContext


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def test_catalogue_crud_archive_and_funder_prices(ctx: ServiceContext, world: World) -> None:
    item = billing.add_item(
        ctx,
        billing.CatalogueEntry("PRD-BAND", "Resistance band", 2200, CatalogueKind.PRODUCT, True),
    )
    with pytest.raises(RuleViolation, match="already has the code"):
        billing.add_item(ctx, billing.CatalogueEntry("PRD-BAND", "Other", 100))
    with pytest.raises(ValidationFailed, match="negative"):
        billing.update_item(ctx, item, billing.CatalogueEntry("PRD-BAND", "Band", -1))
    billing.update_item(
        ctx,
        item,
        billing.CatalogueEntry("PRD-BAND", "Band (red)", 2400, CatalogueKind.PRODUCT, True),
    )
    codes = {r.code: r for r in billing.list_items(ctx)}
    assert codes["PRD-BAND"].name == "Band (red)" and codes["PRD-BAND"].price_cents == 2400
    billing.archive_item(ctx, item)
    assert "PRD-BAND" not in {r.code for r in billing.list_items(ctx)}
    assert "PRD-BAND" in {r.code for r in billing.list_items(ctx, include_archived=True)}
    billing.archive_item(ctx, item, archived=False)

    billing.set_funder_price(ctx, world.service, world.fund, "505", 9100)  # updates, not adds
    [price] = funder_prices(ctx, world.service)
    assert (price.funder_name, price.item_number, price.price_cents) == ("Bupa", "505", 9100)
    with ctx.read() as s:
        line = line_from_catalogue(s, world.service, world.fund)
    assert (line.item_number, line.unit_price_cents) == ("505", 9100)
    remove_funder_price(ctx, price.id)
    with ctx.read() as s:
        line = line_from_catalogue(s, world.service, world.fund)
    assert (line.item_number, line.unit_price_cents) == ("", 9500)
