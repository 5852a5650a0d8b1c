/**
 * Proves the runtime stage has no devDependencies: none in its node_modules (by the lockfile's `dev`
 * flags), none resolvable from its WORKDIR (while they resolve from the project), no node_modules in
 * any folder above it, and no bare import in its compiled code that is not a production dependency.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCommand } from './commands.ts';
import { scanImports, type PackageJson } from './import-scan.ts';
import { PROJECT_ROOT } from './dockerfile.ts';
import type { AssembledArtifact } from './replay-stages.ts';

const PROBE_TIMEOUT_MS = 15_000;

interface Lockfile {
  readonly packages?: Readonly<Record<string, { readonly dev?: boolean }>>;
}

/** The devDependencies that the production tree does not need (by the lockfile's `dev` flags). */
function devOnlyPackages(packageJson: PackageJson, lockfile: Lockfile): string[] {
  return Object.keys(packageJson.devDependencies ?? {}).filter((name) => lockfile.packages?.[`node_modules/${name}`]?.dev !== false);
}

/** Which of `names` `import.meta.resolve` finds from `cwd`, in a fresh Node with no inherited settings. */
async function resolvable(names: readonly string[], cwd: string): Promise<string[]> {
  const probe = `const found = []; for (const name of ${JSON.stringify(names)}) { try { import.meta.resolve(name); found.push(name); } catch {} } console.log(JSON.stringify(found));`;
  const output = await runCommand(process.execPath, ['--input-type=module', '-e', probe], cwd, PROBE_TIMEOUT_MS, {
    PATH: dirname(process.execPath),
    HOME: cwd,
  });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '[]') as string[];
}

export async function proveNoDevDependencies(artifact: AssembledArtifact): Promise<string> {
  const packageJson = JSON.parse(readFileSync(join(artifact.appFolder, 'package.json'), 'utf8')) as PackageJson;
  const lockfile = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const devOnly = devOnlyPackages(packageJson, lockfile);
  const problems: string[] = [];

  const installed = devOnly.filter((name) => existsSync(join(artifact.appFolder, 'node_modules', name)));
  if (installed.length > 0) problems.push(`devDependencies in the runtime node_modules: ${installed.join(', ')}`);

  for (let folder = dirname(artifact.appFolder); ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'node_modules'))) problems.push(`${join(folder, 'node_modules')} exists above the app folder: Node would find packages there`);
    if (dirname(folder) === folder) break;
  }

  const fromProject = await resolvable(devOnly, PROJECT_ROOT);
  const fromRuntime = await resolvable(devOnly, artifact.appFolder);
  if (fromRuntime.length > 0) problems.push(`devDependencies resolvable from the runtime folder: ${fromRuntime.join(', ')}`);
  if (fromProject.length === 0) problems.push('no devDependency resolves from the project either: the resolvability probe proves nothing');

  const scan = scanImports(artifact.appFolder, packageJson);
  problems.push(...scan.problems);
  if (scan.files === 0) problems.push('the runtime stage holds no compiled JavaScript');

  if (problems.length > 0) throw new Error(`the runtime artifact is not self-contained:\n  ${problems.join('\n  ')}`);
  return (
    `${devOnly.length} devDependency-only packages absent; ${fromProject.length} of them resolve from the project and none from the artifact ` +
    `(${fromProject.slice(0, 4).join(', ')}${fromProject.length > 4 ? ', ...' : ''}); ${scan.files} compiled files import only ` +
    `builtins and ${scan.packages.join(', ')}`
  );
}
