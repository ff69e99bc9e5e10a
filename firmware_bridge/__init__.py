"""Device protocols (pure bytes -> samples decoders), serial and BLE transports."""
