from tests.smtp import smtp_server, smtp_server_down  # noqa: F401 - fixtures
