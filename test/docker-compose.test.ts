/**
 * Static checks of the production-shaped stack in docker-compose.yml (no Docker engine needed).
 *
 * - `docker-compose config -q` must accept the file. This needs Debian's docker-compose 1.29
 *   (`apt-get install -y docker-compose`); CI installs it, and the test fails — it does not skip —
 *   when the binary is missing.
 * - The custom search attributes registered by the compose file are exactly SEARCH_ATTRIBUTES.
 * - The app services are wired to Temporal and PostgreSQL, the UI and API publish their ports, and
 *   nothing uses the deprecated temporalio/auto-setup image.
 *
 * No YAML library is available, so the file is read as text: services are the two-space-indented
 * keys under `services:`, and each service's block runs until the next line indented two spaces or less.
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { dirname, join, relative, resolve, sep } from 'path';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { temporalBinaries } from '../scripts/tools';
import { TEST_ENCRYPTION_KEYS } from './encryption';

const ROOT = join(__dirname, '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');

/** The compose file without comment lines, so commented-out settings never count. */
const uncommented = composeText
  .split('\n')
  .filter((line) => !/^\s*#/.test(line))
  .join('\n');

/** Service name -> the raw text of its block (the lines indented deeper than two spaces). */
function serviceBlocks(text: string): Map<string, string> {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^services:\s*$/.test(line));
  if (start < 0) throw new Error('docker-compose.yml has no top-level `services:` key');
  const blocks = new Map<string, string>();
  let current: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (current !== undefined) blocks.set(current, body.join('\n'));
  };
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') {
      body.push(line);
      continue;
    }
    if (/^\S/.test(line)) break; // next top-level key (volumes:, networks:, ...)
    const header = /^ {2}([A-Za-z0-9._-]+):\s*$/.exec(line);
    if (header) {
      flush();
      current = header[1];
      body = [];
    } else {
      body.push(line);
    }
  }
  flush();
  return blocks;
}

const services = serviceBlocks(uncommented);

function service(name: string): string {
  const block = services.get(name);
  if (block === undefined) {
    throw new Error(`docker-compose.yml has no service "${name}" (services: ${[...services.keys()].join(', ')})`);
  }
  return block;
}

/** The value of an environment variable in a service block, in map (`KEY: v`) or list (`- KEY=v`) form. */
function envValue(block: string, key: string): string | undefined {
  const match = new RegExp(`^\\s*(?:-\\s*)?["']?${key}["']?\\s*[:=]\\s*["']?([^"'\\n]*?)["']?\\s*$`, 'm').exec(block);
  return match?.[1];
}

/** Published ports of a service block, as written (`"8233:8080"`, `127.0.0.1:7233:7233`, ...). */
function ports(block: string): string[] {
  const lines = block.split('\n');
  const start = lines.findIndex((line) => /^\s*ports:\s*$/.test(line));
  if (start < 0) return [];
  const indent = /^(\s*)/.exec(lines[start])![1].length;
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') continue;
    if (/^(\s*)/.exec(line)![1].length <= indent && !/^\s*-/.test(line)) break;
    const item = /^\s*-\s*["']?([^"'\s#]+)["']?/.exec(line);
    if (!item) break;
    out.push(item[1]);
  }
  return out;
}

/** host port of each `[ip:]host:container[/proto]` mapping. */
const hostPorts = (block: string) => ports(block).map((p) => p.replace(/\/\w+$/, '').split(':').slice(-2)[0]);

/** The caller's environment with the encryption keys set, which the stack requires. */
const TEST_ADMIN_KEY = 'compose-test-admin-key-0123456789abcdef';
const withKeys = (env: NodeJS.ProcessEnv = process.env) => ({ ...env, SUPPORT_DESK_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY });

/** The file as docker-compose resolves it with the defaults (variables expanded, short syntax made long). */
let resolvedBlocks: Map<string, string> | undefined;
function resolvedService(name: string): string {
  if (!resolvedBlocks) {
    const env: NodeJS.ProcessEnv = withKeys();
    for (const key of Object.keys(env)) if (/^(TEMPORAL_|POSTGRES_|WORKER_|API_PORTS)/.test(key)) delete env[key];
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: ROOT, encoding: 'utf8', env });
    if (result.status !== 0) throw new Error(`docker-compose config exited ${result.status}: ${result.stderr ?? result.error}`);
    resolvedBlocks = serviceBlocks(result.stdout);
  }
  const block = resolvedBlocks.get(name);
  if (block === undefined) throw new Error(`the resolved compose file has no service "${name}"`);
  return block;
}

const sortedPairs = (pairs: Iterable<{ name: string; type: string }>) =>
  [...pairs].map(({ name, type }) => `${name}:${type}`).sort();

describe('docker-compose.yml', () => {
  describe('docker-compose CLI', () => {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    const missing = (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    const installHint =
      'docker-compose is not on PATH. Install Debian\'s docker-compose 1.29 to run this check ' +
      '(`apt-get update && apt-get install -y docker-compose`); CI installs it.';

    it('`docker-compose -f docker-compose.yml config -q` accepts the file', () => {
      if (missing) throw new Error(installHint);
      const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: withKeys(),
      });
      if (result.error) throw result.error;
      if (result.status !== 0) {
        throw new Error(`docker-compose config -q exited ${result.status}:\n${result.stderr}${result.stdout}`);
      }
      expect(result.status).toBe(0);
    });

    it('resolves the credential defaults to the documented DATABASE_URL', () => {
      if (missing) throw new Error(installHint);
      // Resolve with the defaults, whatever the caller's shell exports.
      const env = { ...process.env };
      for (const key of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB', 'SUPPORT_DESK_POLICY']) delete env[key];
      const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: withKeys(env),
      });
      if (result.error) throw result.error;
      expect(result.status).toBe(0);
      const resolved = serviceBlocks(result.stdout);
      for (const name of ['worker', 'api']) {
        const block = resolved.get(name) ?? '';
        expect(envValue(block, 'DATABASE_URL')).toBe('postgresql://support:support@postgresql:5432/support_desk');
        expect(envValue(block, 'SUPPORT_DESK_POLICY')).toBe('default');
        expect(envValue(block, 'SUPPORT_DESK_ENCRYPTION_KEYS')).toBe(TEST_ENCRYPTION_KEYS);
      }
    });

    it('refuses to resolve without SUPPORT_DESK_ADMIN_KEY, and says how to make one', () => {
      if (missing) throw new Error(installHint);
      const env: NodeJS.ProcessEnv = withKeys();
      delete env.SUPPORT_DESK_ADMIN_KEY;
      const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8', env });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('set SUPPORT_DESK_ADMIN_KEY');
    });

    it('refuses to resolve without SUPPORT_DESK_ENCRYPTION_KEYS, and says how to make a key', () => {
      if (missing) throw new Error(installHint);
      const env: NodeJS.ProcessEnv = withKeys();
      delete env.SUPPORT_DESK_ENCRYPTION_KEYS;
      const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8', env });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('set SUPPORT_DESK_ENCRYPTION_KEYS');
      expect(result.stderr).toContain('randomBytes(32)');
    });
  });

  describe('search attributes', () => {
    const registered = [
      ...uncommented.matchAll(
        /temporal\s+operator\s+search-attribute\s+create\s+--namespace\s+(\S+)\s+--name\s+(\S+)\s+--type\s+(\S+)/g,
      ),
    ].map((m) => ({ namespace: m[1], name: m[2], type: m[3] }));

    it('registers exactly SEARCH_ATTRIBUTES (keep in sync with domain/search-attributes.ts)', () => {
      expect(sortedPairs(registered)).toEqual(sortedPairs(SEARCH_ATTRIBUTES));
    });

    it('registers them in the default namespace, from the one-shot setup service', () => {
      expect(registered.length).toBeGreaterThan(0);
      expect(new Set(registered.map((r) => r.namespace))).toEqual(new Set(['default']));
      const setup = service('temporal-namespace-setup');
      expect(setup).toMatch(/search-attribute\s+create/);
      expect(setup).toMatch(/namespace\s+create\s+--namespace\s+default/);
      expect(setup).toMatch(/condition:\s*service_healthy/);
    });
  });

  describe('wiring', () => {
    it.each(['worker', 'api'])('%s gets TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, SUPPORT_DESK_POLICY', (name) => {
      const block = resolvedService(name);
      expect(envValue(block, 'TEMPORAL_ADDRESS')).toBe('temporal:7233');
      expect(envValue(block, 'TEMPORAL_NAMESPACE')).toBe('default');
      expect(envValue(block, 'DATABASE_URL')).toMatch(/^postgresql:\/\/.+@postgresql:5432\/.+$/);
      expect(envValue(block, 'SUPPORT_DESK_POLICY')).toBeDefined();
      expect(service(name)).toMatch(/^\s*build:/m);
    });

    it.each(['worker', 'api'])('%s passes every Temporal connection setting through, with no value committed', (name) => {
      for (const key of ['TEMPORAL_TLS', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY']) {
        expect(envValue(service(name), key)).toBe(`\${${key}:-}`);
      }
    });

    it.each(['worker', 'api'])('%s requires SUPPORT_DESK_ENCRYPTION_KEYS, with no default', (name) => {
      expect(service(name)).toMatch(/^\s*SUPPORT_DESK_ENCRYPTION_KEYS:\s*\$\{SUPPORT_DESK_ENCRYPTION_KEYS:\?/m);
    });

    it('worker and api run the built entry points with node (no tsx, no npm in between)', () => {
      expect(service('worker')).toMatch(/command:\s*\[\s*"node",\s*"--enable-source-maps",\s*"dist\/workers\/main\.js"\s*\]/);
      expect(service('api')).toMatch(/command:\s*\[\s*"node",\s*"--enable-source-maps",\s*"dist\/api\/main\.js"\s*\]/);
    });

    it('worker and api probe their /readyz, and the worker is given longer to stop than its grace time', () => {
      expect(resolvedService('worker')).toContain('http://127.0.0.1:3001/readyz');
      expect(envValue(resolvedService('worker'), 'WORKER_HEALTH_PORT')).toBe('3001');
      expect(resolvedService('api')).toContain('http://127.0.0.1:3000/readyz');
      const grace = Number(envValue(resolvedService('worker'), 'WORKER_SHUTDOWN_GRACE_SECONDS'));
      const stopPeriod = Number(/stop_grace_period: (\d+)s/.exec(resolvedService('worker'))?.[1]);
      expect(stopPeriod).toBeGreaterThan(grace);
    });

    it('scales: worker and api have no fixed container name, and each api replica gets its own host port', () => {
      for (const name of ['worker', 'api']) expect(service(name)).not.toMatch(/container_name:/);
      expect(ports(resolvedService('worker'))).toEqual([]);
      const published = /published: (\d+)-(\d+)\s+target: 3000/.exec(resolvedService('api'));
      expect(published).not.toBeNull();
      expect(Number(published![2]) - Number(published![1]) + 1).toBeGreaterThanOrEqual(2);
      expect(envValue(service('api'), 'PORT')).toBe('3000');
    });

    it('the UI publishes 8233 and points at temporal:7233', () => {
      const ui = service('temporal-ui');
      expect(ports(ui)).toContain('127.0.0.1:8233:8080'); // unauthenticated: this machine only
      expect(envValue(ui, 'TEMPORAL_ADDRESS')).toBe('temporal:7233');
    });

    it("the UI decodes through the API's codec server, which lets the UI's origin call it", () => {
      const ui = service('temporal-ui');
      expect(envValue(ui, 'TEMPORAL_CODEC_ENDPOINT')).toBe('${TEMPORAL_CODEC_ENDPOINT:-http://localhost:3000/codec}');
      expect(envValue(ui, 'TEMPORAL_CODEC_INCLUDE_CREDENTIALS')).toBe('true');
      expect(envValue(service('api'), 'CODEC_CORS_ORIGINS')).toBe('${CODEC_CORS_ORIGINS:-http://localhost:8233}');
    });

    it('no service uses temporalio/auto-setup; Temporal images are pinned', () => {
      const images = [...uncommented.matchAll(/^\s*image:\s*["']?([^"'\s]+)["']?\s*$/gm)].map((m) => m[1]);
      expect(images.filter((image) => image.includes('temporalio/auto-setup'))).toEqual([]);
      expect(images.some((image) => image.startsWith('temporalio/server:'))).toBe(true);
      expect(images.some((image) => image.startsWith('temporalio/admin-tools:'))).toBe(true);
      for (const image of images.filter((i) => i.startsWith('temporalio/'))) {
        expect(image).toMatch(/:\d+\.\d+\.\d+/); // an exact release, never :latest
      }
    });

    it('schema setup runs before the server, namespace setup before the app', () => {
      expect(service('temporal-admin-tools')).toMatch(/temporal-sql-tool/);
      expect(service('temporal')).toMatch(/temporal-admin-tools:\s*\n\s*condition:\s*service_completed_successfully/);
      for (const name of ['worker', 'api']) {
        expect(service(name)).toMatch(/temporal-namespace-setup:\s*\n\s*condition:\s*service_completed_successfully/);
      }
      expect(service('postgresql')).toMatch(/healthcheck:/);
    });

    it('commits no literal credentials: passwords come from the environment with a default', () => {
      const passwords = [...uncommented.matchAll(/^\s*(?:-\s*)?(\w*(?:PASSWORD|PWD))\s*[:=]\s*(.*)$/gm)];
      expect(passwords.length).toBeGreaterThan(0);
      for (const [, key, value] of passwords) {
        expect(`${key}=${value.trim()}`).toMatch(/=\$\{POSTGRES_PASSWORD:-[^}]*\}$/);
      }
    });
  });
});

describe('versions', () => {
  it('the compose stack runs the Temporal server and UI versions of the dev server `npm start` and the tests use', async () => {
    const { temporal } = await temporalBinaries();
    const version = spawnSync(temporal, ['--version'], { encoding: 'utf8' }).stdout;
    // e.g. "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"
    const match = /\(Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)\)/.exec(version);
    expect(match).not.toBeNull();
    const [, server, ui] = match!;
    const images = [...uncommented.matchAll(/image:\s*(temporalio\/[\w-]+):(\S+)/g)].map((m) => `${m[1]}:${m[2]}`).sort();
    expect(images).toEqual(
      [`temporalio/admin-tools:${server}`, `temporalio/admin-tools:${server}`, `temporalio/server:${server}`, `temporalio/ui:${ui}`].sort(),
    );
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY\s+(\S+)\s+\.\/\S*$/gm)].map((m) => m[1]);

  it('copies every folder the worker, the API and `npm run desk` import from', () => {
    // Follow the imports from the entry points: every project folder they reach must be in the image.
    const reached = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      reached.add(relative(ROOT, file).split(sep)[0]!);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = resolve(dirname(file), spec!);
        const candidates = [`${target}.ts`, join(target, 'index.ts'), target];
        const found = candidates.find((c) => existsSync(c) && c.endsWith('.ts'));
        if (found) visit(found);
      }
    };
    for (const entry of ['api/main.ts', 'workers/main.ts', 'scripts/desk.ts', 'workflows/index.ts']) visit(join(ROOT, entry));
    expect([...reached].filter((folder) => !copied.includes(folder)).sort()).toEqual([]);
    expect(reached.has('test')).toBe(false); // production code imports nothing from the tests
    // ...and `npm run build` compiles every one of them.
    const build = readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8');
    const included: string[] = JSON.parse(/"include":\s*(\[[^\]]*\])/.exec(build)![1]);
    expect([...reached].filter((folder) => !included.includes(folder)).sort()).toEqual([]);
  });

  it('builds in one stage and runs the built code in another, as the unprivileged user, without dev dependencies', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    const [build, runtime] = stages;
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(runtime).toMatch(/^RUN npm install --omit=dev/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).not.toMatch(/^COPY (domain|config|workflows|activities|workers|api|db|scripts) /m); // no sources
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/api\/main\.js"\]$/m);
  });
});
