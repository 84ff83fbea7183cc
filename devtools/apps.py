from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Demo data, scale data and benchmarks: tools for people building and trying the product.

    Product code never imports this package (an import-linter contract says so); it is
    installed so that ``manage.py load_demo`` and the benchmark commands exist.
    """

    name = "devtools"
    verbose_name = "Development tools"
