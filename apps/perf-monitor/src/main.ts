import { startService } from '@techsapo/service-kit';
import { buildApp } from './app.js';

await startService(
  'perf-monitor',
  (config) => buildApp(config),
  (config) => config.server.perf_monitor_port,
);
