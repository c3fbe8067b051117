// The logger every shell is handed (Probot's pino, or a test's capture).
import type { Logger } from 'probot';

export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
