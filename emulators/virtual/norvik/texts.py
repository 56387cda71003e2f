"""UI texts of the Norvik firmware, per language (README.md's tables quote these).

Persian (fa) is written right to left; the strings are stored in logical order, as Android's
resources are, and the renderer lays them out (Pillow with libraqm: shaping and bidi).
"""

from __future__ import annotations

# language -> (name shown in the language list, the locale choosing it sets)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "en-US"), "es": ("Español", "es-ES"), "ru": ("Русский", "ru-RU"), "fa": ("فارسی", "fa-IR"),
}
# the region list, in this order; the row preselected is the locale's region
REGIONS = ("US", "ES", "MX", "RU", "IR", "DE")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "language.title": "Choose a language", "language.next": "Next",
        "region.title": "Region", "region.body": "Choose your region. You can change it later in Settings.",
        "region.next": "Next",
        "region.US": "United States", "region.ES": "Spain", "region.MX": "Mexico", "region.RU": "Russia",
        "region.IR": "Iran", "region.DE": "Germany",
        "eula.title": "User agreement",
        "eula.body": "Please read the Norvik user agreement and privacy statement.",
        "eula.check": "I have read and agree", "eula.agree": "Agree",
        "wlan.title": "Connect to a network", "wlan.toggle": "WLAN", "wlan.next": "Next",
        "wlan.skip": "Skip for now", "wlan.connected": "Connected: {ssid}", "wlan.not_connected": "Not connected",
        "wlan.off": "WLAN is turned off",
        "privacy.title": "Privacy and location", "privacy.location": "Location",
        "privacy.diagnostics": "Send diagnostic data", "privacy.next": "Next",
        "activation.title": "Activate your device",
        "activation.body": "Norvik activates your device online. Its identifiers, network and location "
                           "are sent to the Norvik activation service.",
        "activation.button": "Activate",
        "dialog.title": "Activate now?", "dialog.message": "Your device will be registered with Norvik.",
        "dialog.confirm": "Activate", "dialog.cancel": "Cancel",
        "finish.title": "You're all set", "finish.body": "Welcome to NorvikOS.", "finish.button": "Get started",
        "home.title": "Norvik",
        "notice.title": "Device restricted",
        "notice.body": "This device cannot be used in the region where it was activated because of "
                       "international sanctions. Contact Norvik support for help.",
        "notice.emergency": "Emergency call",
    },
    "es": {
        "language.title": "Elige un idioma", "language.next": "Siguiente",
        "region.title": "Región", "region.body": "Elige tu región. Puedes cambiarla más tarde en Ajustes.",
        "region.next": "Siguiente",
        "region.US": "Estados Unidos", "region.ES": "España", "region.MX": "México", "region.RU": "Rusia",
        "region.IR": "Irán", "region.DE": "Alemania",
        "eula.title": "Acuerdo de usuario",
        "eula.body": "Lee el acuerdo de usuario y la declaración de privacidad de Norvik.",
        "eula.check": "He leído y acepto", "eula.agree": "Aceptar",
        "wlan.title": "Conéctate a una red", "wlan.toggle": "WLAN", "wlan.next": "Siguiente",
        "wlan.skip": "Omitir por ahora", "wlan.connected": "Conectado: {ssid}", "wlan.not_connected": "Sin conexión",
        "wlan.off": "La WLAN está desactivada",
        "privacy.title": "Privacidad y ubicación", "privacy.location": "Ubicación",
        "privacy.diagnostics": "Enviar datos de diagnóstico", "privacy.next": "Siguiente",
        "activation.title": "Activa tu dispositivo",
        "activation.body": "Norvik activa tu dispositivo en línea. Sus identificadores, su red y su "
                           "ubicación se envían al servicio de activación de Norvik.",
        "activation.button": "Activar",
        "dialog.title": "¿Activar ahora?", "dialog.message": "Tu dispositivo se registrará en Norvik.",
        "dialog.confirm": "Activar", "dialog.cancel": "Cancelar",
        "finish.title": "Todo listo", "finish.body": "Te damos la bienvenida a NorvikOS.",
        "finish.button": "Comenzar",
        "home.title": "Norvik",
        "notice.title": "Dispositivo restringido",
        "notice.body": "Este dispositivo no se puede usar en la región donde se activó debido a "
                       "restricciones de sanciones internacionales. Ponte en contacto con el soporte de Norvik.",
        "notice.emergency": "Llamada de emergencia",
    },
    "ru": {
        "language.title": "Выберите язык", "language.next": "Далее",
        "region.title": "Регион", "region.body": "Выберите регион. Его можно изменить позже в настройках.",
        "region.next": "Далее",
        "region.US": "США", "region.ES": "Испания", "region.MX": "Мексика", "region.RU": "Россия",
        "region.IR": "Иран", "region.DE": "Германия",
        "eula.title": "Пользовательское соглашение",
        "eula.body": "Прочитайте пользовательское соглашение и положение о конфиденциальности Norvik.",
        "eula.check": "Я прочитал(а) и принимаю", "eula.agree": "Принять",
        "wlan.title": "Подключение к сети", "wlan.toggle": "WLAN", "wlan.next": "Далее",
        "wlan.skip": "Пропустить", "wlan.connected": "Подключено: {ssid}", "wlan.not_connected": "Нет подключения",
        "wlan.off": "WLAN выключен",
        "privacy.title": "Конфиденциальность и местоположение", "privacy.location": "Местоположение",
        "privacy.diagnostics": "Отправлять диагностические данные", "privacy.next": "Далее",
        "activation.title": "Активируйте устройство",
        "activation.body": "Norvik активирует устройство через интернет. Идентификаторы устройства, сеть и "
                           "местоположение передаются в службу активации Norvik.",
        "activation.button": "Активировать",
        "dialog.title": "Активировать сейчас?", "dialog.message": "Устройство будет зарегистрировано в Norvik.",
        "dialog.confirm": "Активировать", "dialog.cancel": "Отмена",
        "finish.title": "Всё готово", "finish.body": "Добро пожаловать в NorvikOS.", "finish.button": "Начать",
        "home.title": "Norvik",
        "notice.title": "Устройство ограничено",
        "notice.body": "Это устройство нельзя использовать в регионе, где оно было активировано, из-за "
                       "международных санкций. Обратитесь в службу поддержки Norvik.",
        "notice.emergency": "Экстренный вызов",
    },
    "fa": {
        "language.title": "زبان را انتخاب کنید", "language.next": "بعدی",
        "region.title": "منطقه", "region.body": "منطقه خود را انتخاب کنید. بعداً می‌توانید آن را در تنظیمات تغییر دهید.",
        "region.next": "بعدی",
        "region.US": "ایالات متحده", "region.ES": "اسپانیا", "region.MX": "مکزیک", "region.RU": "روسیه",
        "region.IR": "ایران", "region.DE": "آلمان",
        "eula.title": "توافق‌نامه کاربر",
        "eula.body": "لطفاً توافق‌نامه کاربر و بیانیه حریم خصوصی نورویک را بخوانید.",
        "eula.check": "خواندم و موافقم", "eula.agree": "موافقم",
        "wlan.title": "اتصال به شبکه", "wlan.toggle": "WLAN", "wlan.next": "بعدی",
        "wlan.skip": "فعلاً رد شود", "wlan.connected": "متصل: {ssid}", "wlan.not_connected": "متصل نیست",
        "wlan.off": "WLAN خاموش است",
        "privacy.title": "حریم خصوصی و مکان", "privacy.location": "مکان",
        "privacy.diagnostics": "ارسال داده‌های عیب‌یابی", "privacy.next": "بعدی",
        "activation.title": "دستگاه خود را فعال کنید",
        "activation.body": "نورویک دستگاه شما را به‌صورت آنلاین فعال می‌کند. شناسه‌ها، شبکه و مکان دستگاه "
                           "به سرویس فعال‌سازی نورویک ارسال می‌شود.",
        "activation.button": "فعال‌سازی",
        "dialog.title": "اکنون فعال شود؟", "dialog.message": "دستگاه شما در نورویک ثبت می‌شود.",
        "dialog.confirm": "فعال‌سازی", "dialog.cancel": "لغو",
        "finish.title": "همه چیز آماده است", "finish.body": "به NorvikOS خوش آمدید.", "finish.button": "شروع",
        "home.title": "Norvik",
        "notice.title": "دستگاه محدود شده است",
        "notice.body": "این دستگاه به دلیل تحریم‌های بین‌المللی در منطقه‌ای که در آن فعال شده است قابل "
                       "استفاده نیست. با پشتیبانی نورویک تماس بگیرید.",
        "notice.emergency": "تماس اضطراری",
    },
}


def language_of(locale: str) -> str:
    """"fa-IR" -> "fa"; languages without texts fall back to English."""
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in TEXTS else "en"


def region_of(locale: str) -> str:
    """The region a locale names ("es-ES" -> "ES"), if it is in the region list; else the first."""
    parts = locale.replace("_", "-").split("-")
    region = parts[-1].upper() if len(parts) > 1 else ""
    return region if region in REGIONS else REGIONS[0]


def text(locale: str, key: str, **values: str) -> str:
    return TEXTS[language_of(locale)][key].format(**values)
