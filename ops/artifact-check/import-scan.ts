/** The import specifiers of the compiled code, checked against package.json and the files that are there. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface ImportScan {
  readonly files: number;
  readonly packages: readonly string[];
  readonly problems: readonly string[];
}

const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function listJsFiles(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...listJsFiles(path));
    else if (/\.(?:m|c)?js$/.test(entry.name)) found.push(path);
  }
  return found;
}

export interface PackageJson {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/**
 * Every import specifier in the .js files under `appFolder` (node_modules left out): a bare one must be
 * a Node builtin or a production dependency; a relative one must point at a file that is there.
 */
export function scanImports(appFolder: string, packageJson: PackageJson): ImportScan {
  const dependencies = new Set(Object.keys(packageJson.dependencies ?? {}));
  const devDependencies = new Set(Object.keys(packageJson.devDependencies ?? {}));
  const packages = new Set<string>();
  const problems: string[] = [];
  const files = listJsFiles(appFolder);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const where = relative(appFolder, file).split(sep).join('/');
    for (const pattern of IMPORT_PATTERNS) {
      for (const match of text.matchAll(pattern)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.') || specifier.startsWith('/')) {
          const target = resolve(dirname(file), specifier);
          if (!existsSync(target)) problems.push(`${where} imports ${specifier}, which the image does not contain`);
        } else if (!isBuiltin(specifier)) {
          const name = packageName(specifier);
          packages.add(name);
          if (devDependencies.has(name) && !dependencies.has(name)) {
            problems.push(`${where} imports ${specifier}: ${name} is only a devDependency, absent from the image`);
          } else if (!dependencies.has(name)) {
            problems.push(`${where} imports ${specifier}: ${name} is not in package.json dependencies (present only by hoisting, if at all)`);
          }
        }
      }
    }
  }
  return { files: files.length, packages: [...packages].sort(), problems };
}
