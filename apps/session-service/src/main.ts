import { startService } from '@techsapo/service-kit';
import { buildApp, StartupError } from './app.js';
import { InvalidKeyError } from './cipher.js';

await startService(
  'session-service',
  (config) => buildApp(config),
  (config) => config.server.session_service_port,
  [StartupError, InvalidKeyError],
);
