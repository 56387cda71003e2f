"""UI texts of the firmware's screens, per language (the README's tables quote these)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome.title": "Welcome", "welcome.next": "Start",
        "welcome.body": "Choose your language",
        "sim.title": "SIM card", "sim.next": "Next", "sim.none": "No SIM card",
        "sim.slot": "SIM {slot}: {name} ({plmn})", "sim.slot_absent": "SIM {slot}: empty",
        "wifi.title": "Connect to Wi-Fi", "wifi.next": "Next", "wifi.skip": "Skip",
        "wifi.switch": "Wi-Fi", "wifi.connected": "Connected to {ssid}", "wifi.not_connected": "Not connected",
        "wifi.off": "Wi-Fi is off",
        "terms.title": "Terms of service", "terms.accept": "Accept",
        "terms.body": "By continuing you agree to the terms of service and the privacy policy.",
        "account.title": "Sign in", "account.skip": "Skip",
        "account.body": "Sign in to your account to sync your data.",
        "location.title": "Location services", "location.next": "Next",
        "location.switch": "Use location",
        "done.title": "All set", "done.finish": "Finish", "done.body": "Your device is ready.",
        "home.title": "Home",
    },
    "es": {
        "welcome.title": "Te damos la bienvenida", "welcome.next": "Empezar",
        "welcome.body": "Elige tu idioma",
        "sim.title": "Tarjeta SIM", "sim.next": "Siguiente", "sim.none": "Sin tarjeta SIM",
        "sim.slot": "SIM {slot}: {name} ({plmn})", "sim.slot_absent": "SIM {slot}: vacía",
        "wifi.title": "Conectarse a Wi-Fi", "wifi.next": "Siguiente", "wifi.skip": "Omitir",
        "wifi.switch": "Wi-Fi", "wifi.connected": "Conectado a {ssid}", "wifi.not_connected": "Sin conexión",
        "wifi.off": "El Wi-Fi está desactivado",
        "terms.title": "Condiciones del servicio", "terms.accept": "Aceptar",
        "terms.body": "Al continuar, aceptas las condiciones del servicio y la política de privacidad.",
        "account.title": "Iniciar sesión", "account.skip": "Omitir",
        "account.body": "Inicia sesión en tu cuenta para sincronizar tus datos.",
        "location.title": "Servicios de ubicación", "location.next": "Siguiente",
        "location.switch": "Usar ubicación",
        "done.title": "Todo listo", "done.finish": "Finalizar", "done.body": "Tu dispositivo está listo.",
        "home.title": "Inicio",
    },
}
LANGUAGES = {"en": ("English", "en-US"), "es": ("Español", "es-ES")}


def language_of(locale: str) -> str:
    """"es-ES" -> "es"; languages without texts fall back to English."""
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in TEXTS else "en"


def text(locale: str, key: str, **values: str) -> str:
    return TEXTS[language_of(locale)][key].format(**values)
