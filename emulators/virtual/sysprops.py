"""System properties every API 31 SDK emulator image sets, whatever the product on top.

init reads them from /system/build.prop, /vendor/build.prop, /default.prop and the kernel command
line (`androidboot.*` -> `ro.boot.*`), and services publish `init.svc.*` as they start. The firmware
sets its own identity (`ro.product.*`, fingerprint, operator) after these, so it wins where both do.
Values are those of an sdk_gphone64_x86_64 API 31 image.
"""

from __future__ import annotations

from emulators.virtual.ui.view import DENSITY

SYSTEM_PROPS: dict[str, str] = {
    # build: only what does not name a product (the firmware sets its identity and fingerprint)
    "ro.build.version.sdk": "31", "ro.build.version.release": "12", "ro.build.version.codename": "REL",
    "ro.build.version.all_codenames": "REL", "ro.build.version.preview_sdk": "0",
    "ro.build.version.min_supported_target_sdk": "23", "ro.build.characteristics": "emulator",
    "ro.product.cpu.abilist": "x86_64,arm64-v8a", "ro.product.cpu.abilist64": "x86_64,arm64-v8a",
    "ro.product.cpu.abilist32": "", "ro.product.locale": "en-US", "ro.board.platform": "ranchu",
    # boot and kernel command line
    "ro.boot.hardware": "ranchu", "ro.boot.qemu": "1", "ro.boot.qemu.gltransport.name": "pipe",
    "ro.boot.dalvik.vm.heapsize": "576m", "ro.boot.verifiedbootstate": "orange", "ro.boot.veritymode": "enforcing",
    "ro.boot.vbmeta.device_state": "unlocked", "ro.boot.flash.locked": "0", "ro.boot.slot_suffix": "",
    "ro.boot.boot_devices": "pci0000:00/0000:00:03.0", "ro.bootmode": "unknown",
    "ro.bootloader": "unknown", "ro.hardware": "ranchu", "ro.kernel.qemu": "1", "ro.secure": "1",
    "ro.treble.enabled": "true",
    "ro.vndk.version": "31", "ro.zygote": "zygote64", "ro.crypto.state": "encrypted",
    "ro.crypto.type": "file", "ro.logd.size": "262144",
    # display and graphics
    "ro.sf.lcd_density": str(DENSITY), "ro.opengles.version": "196610",
    "ro.hardware.egl": "emulation", "ro.hardware.gralloc": "ranchu",
    "ro.surface_flinger.max_frame_buffer_acquired_buffers": "3", "qemu.sf.lcd_density": str(DENSITY),
    # runtime
    "dalvik.vm.heapsize": "576m", "dalvik.vm.heapstartsize": "8m", "dalvik.vm.heapgrowthlimit": "256m",
    "dalvik.vm.isa.x86_64.variant": "x86_64", "dalvik.vm.usejit": "true",
    "dalvik.vm.appimageformat": "lz4", "dalvik.vm.dex2oat-Xms": "64m",
    # config
    "ro.config.ringtone": "Ring_Synth_04.ogg", "ro.config.notification_sound": "pixiedust.ogg",
    "ro.config.alarm_alert": "Alarm_Classic.ogg", "ro.carrier": "unknown",
    "ro.com.android.dataroaming": "false", "ro.telephony.default_network": "10", "ro.telephony.call_ring.multiple": "false",
    "ro.radio.noril": "no", "ro.wifi.channels": "", "wifi.interface": "wlan0",
    "ro.storage_manager.enabled": "true", "ro.baseband": "unknown", "gsm.version.baseband": "1.0.0.0",
    "gsm.version.ril-impl": "android reference-ril 1.0", "gsm.network.type": "LTE",
    "gsm.current.phone-type": "1", "gsm.nitz.time": "", "persist.sys.usb.config": "adb",
    "sys.usb.config": "adb", "sys.usb.state": "adb", "persist.sys.dalvik.vm.lib.2": "libart.so",
    "net.bt.name": "Android", "net.dns1": "10.0.2.3", "net.hostname": "localhost",
    "ro.vendor.api_level": "31", "sys.sysctl.extra_free_kbytes": "24300",
    "selinux.restorecon_recursive": "/data/misc_ce/0", "vold.has_adoptable": "0",
    # services as init publishes them
    **{f"init.svc.{name}": "running" for name in (
        "adbd", "logd", "servicemanager", "hwservicemanager", "vold", "zygote", "surfaceflinger",
        "audioserver", "cameraserver", "installd", "netd", "ueventd", "lmkd", "statsd", "gatekeeperd",
        "keystore2", "media", "storaged", "wificond", "ril-daemon", "qemu-props", "gpu")},
}
