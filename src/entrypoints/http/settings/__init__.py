from entrypoints.http.settings.controller import OrgSettingsController, SettingsController

__all__ = ("OrgSettingsController", "SettingsController")
