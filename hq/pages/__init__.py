"""The back office: server-rendered pages (Jinja2 templates, vendored static files).

Pages are left out of the OpenAPI schema; every figure they show is also a JSON endpoint
under ``/v1/reports`` that is in it.
"""

from fastapi import APIRouter

from hq.pages import (
    admins,
    api_tokens,
    auth,
    bulk_prices,
    catalog_import,
    categories,
    dashboard,
    loyalty,
    members,
    outlets,
    pdf,
    products,
    purchasing,
    reports,
    staff,
    stock,
    store_settings,
)
from hq.pages.templating import STATIC

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(api_tokens.router)
router.include_router(admins.router)
router.include_router(dashboard.router)
router.include_router(pdf.router)  # before reports: /reports/{name}.pdf
router.include_router(reports.router)
router.include_router(loyalty.router)
router.include_router(staff.router)
router.include_router(catalog_import.router)
router.include_router(bulk_prices.router)  # before products: /products/{product_id}
router.include_router(products.router)
router.include_router(categories.router)
router.include_router(members.router)
router.include_router(outlets.router)
router.include_router(store_settings.router)
router.include_router(stock.router)
router.include_router(purchasing.router)

__all__ = ["STATIC", "router"]
