/**
 * The CDK app: `npm run synth`, `npx cdk deploy`. Settings come from context (cdk.json or -c key=value;
 * see infra/settings.ts and the README). cdk-nag's AwsSolutions checks run on every synth.
 */
import { buildApp } from './build-app.ts';
import { SettingsError } from './settings.ts';

try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
