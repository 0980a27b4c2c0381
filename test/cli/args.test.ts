import { describe, expect, it } from 'vitest';
import { CliUsageError, COMMANDS, parseCliArgs, parsePort, usageOf } from '../../src/cli/args.js';

function usageError(argv: string[], env: Record<string, string> = {}): CliUsageError {
  try {
    parseCliArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(CliUsageError);
    return error as CliUsageError;
  }
  throw new Error(`parsed without error: ${argv.join(' ')}`);
}

describe('parseCliArgs', () => {
  it('asks for help with --help, -h and help [command]', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['help', 'demo'])).toEqual({ kind: 'help', topic: 'demo' });
    expect(parseCliArgs(['dashboard', '--help'])).toEqual({ kind: 'help', topic: 'dashboard' });
    expect(parseCliArgs(['demo', '--port', '1', '-h'])).toEqual({ kind: 'help', topic: 'demo' });
  });

  it('runs the demo on 127.0.0.1:7979 by default, on PORT from the environment, or on --port', () => {
    expect(parseCliArgs(['demo'])).toEqual({ kind: 'demo', port: 7979, host: '127.0.0.1' });
    expect(parseCliArgs(['demo'], { PORT: '8080' })).toEqual({ kind: 'demo', port: 8080, host: '127.0.0.1' });
    expect(parseCliArgs(['demo'], { PORT: '' })).toMatchObject({ port: 7979 });
    expect(parseCliArgs(['demo', '--port', '0'], { PORT: '8080' })).toEqual({ kind: 'demo', port: 0, host: '127.0.0.1' });
    expect(parseCliArgs(['demo', '--port=9000', '--host', '::1'])).toEqual({ kind: 'demo', port: 9000, host: '::1' });
  });

  it('collects every --stream of the dashboard command', () => {
    expect(
      parseCliArgs(['dashboard', '--stream', 'http://10.0.0.5:8080/hystrix.stream', '--stream=https://b.example/turbine.stream?cluster=x', '--port', '0']),
    ).toEqual({
      kind: 'dashboard',
      port: 0,
      host: '127.0.0.1',
      streams: ['http://10.0.0.5:8080/hystrix.stream', 'https://b.example/turbine.stream?cluster=x'],
    });
  });

  it('takes --aggregate (a flag) for the dashboard command only', () => {
    expect(parseCliArgs(['dashboard', '--aggregate', '--stream', 'http://a:1/s', '--stream', 'http://b:1/s'])).toEqual({
      kind: 'dashboard', port: 7979, host: '127.0.0.1', streams: ['http://a:1/s', 'http://b:1/s'], aggregate: true,
    });
    expect(() => parseCliArgs(['demo', '--aggregate'])).toThrow(/unknown option "--aggregate" for 'demo'/);
    expect(usageOf('dashboard')).toContain('--aggregate');
  });

  it('refuses bad command lines with a message that says what is wrong', () => {
    expect(usageError([]).message).toMatch(/missing command/);
    expect(usageError(['serve']).message).toMatch(/unknown command "serve"/);
    expect(usageError(['--port', '1']).message).toMatch(/unknown option "--port"; put options after the command/);
    expect(usageError(['help', 'nope']).message).toMatch(/unknown command "nope"/);
    const badPort = usageError(['demo', '--port', 'eighty']);
    expect(badPort.message).toBe('--port must be an integer from 0 to 65535 (0 = a free port), got "eighty"');
    expect(badPort.subcommand).toBe('demo');
    expect(usageError(['demo', '--port', '65536']).message).toMatch(/--port must be an integer from 0 to 65535/);
    expect(usageError(['demo', '--port', '-1']).message).toMatch(/^--port must be an integer/);
    expect(usageError(['demo', '--port', '1.5']).message).toMatch(/--port must be/);
    expect(usageError(['demo', '--port']).message).toBe('--port needs a value');
    expect(usageError(['demo', '--port', '1', '--port', '2']).message).toBe('--port given twice');
    expect(usageError(['demo'], { PORT: 'abc' }).message).toBe('the PORT environment variable must be an integer from 0 to 65535 (0 = a free port), got "abc"');
    expect(usageError(['demo', '--stream', 'http://x/']).message).toBe(`unknown option "--stream" for 'demo'`);
    expect(usageError(['demo', 'extra']).message).toBe(`unexpected argument "extra" for 'demo'`);
    expect(usageError(['demo', '--host', '']).message).toMatch(/--host must be a host name/);
    const noStream = usageError(['dashboard']);
    expect(noStream.message).toBe("'dashboard' needs at least one --stream URL");
    expect(noStream.subcommand).toBe('dashboard');
    expect(usageError(['dashboard', '--stream', 'not a url']).message).toMatch(/--stream must be an absolute http/);
    expect(usageError(['dashboard', '--stream', 'file:///etc/passwd']).message).toMatch(/--stream must be an http:\/\/ or https:\/\/ URL/);
  });

  it('accepts ports 0 to 65535 written as plain digits only', () => {
    expect(parsePort('0', '--port')).toBe(0);
    expect(parsePort('65535', '--port')).toBe(65535);
    for (const bad of ['', ' 1', '1e3', '0x10', '+1', '65536', '123456']) {
      expect(() => parsePort(bad, '--port'), bad).toThrow(CliUsageError);
    }
  });

  it('has help that lists every subcommand and option', () => {
    for (const { name } of COMMANDS) expect(usageOf()).toContain(`\n  ${name} `);
    expect(usageOf()).toMatch(/-v, --version/);
    expect(parseCliArgs(['--version'])).toEqual({ kind: 'version' });
    expect(parseCliArgs(['-v'])).toEqual({ kind: 'version' });
    expect(usageError(['--version', 'x']).message).toMatch(/unexpected argument "x" after --version/);
    expect(usageOf()).toMatch(/demo/);
    expect(usageOf()).toMatch(/dashboard/);
    expect(usageOf()).toMatch(/help/);
    expect(usageOf('demo')).toMatch(/--port N[\s\S]*--host HOST/);
    expect(usageOf('dashboard')).toMatch(/--stream URL[\s\S]*--port N[\s\S]*--host HOST/);
  });
});

describe('parseCliArgs: --allowed-host', () => {
  it('collects repeated names for every subcommand, and "all" alone turns the check off', () => {
    expect(parseCliArgs(['demo', '--host', '0.0.0.0', '--allowed-host', 'box.local', '--allowed-host=.corp.example'])).toEqual({
      kind: 'demo',
      port: 7979,
      host: '0.0.0.0',
      allowedHosts: ['box.local', '.corp.example'],
    });
    expect(parseCliArgs(['dashboard', '--stream', 'http://a/s', '--allowed-host', 'all'])).toMatchObject({ allowedHosts: 'all' });
    expect(parseCliArgs(['turbine', '--dns', 'a:1', '--allowed-host', '10.0.0.7'])).toMatchObject({ allowedHosts: ['10.0.0.7'] });
    expect(parseCliArgs(['demo'])).not.toHaveProperty('allowedHosts');
    expect(usageOf('demo')).toMatch(/--allowed-host NAME/);
    expect(usageOf('dashboard')).toMatch(/--allowed-host NAME/);
    expect(usageOf('turbine')).toMatch(/--allowed-host NAME/);
  });

  it('refuses a bad name, a name with a port, and "all" mixed with names, naming the flag', () => {
    for (const bad of ['', 'a b', 'box:8080', 'http://box', 'a/b']) {
      expect(usageError(['demo', '--allowed-host', bad]).message, bad).toMatch(/^--allowed-host must be a host name/);
    }
    expect(usageError(['demo', '--allowed-host', 'all', '--allowed-host', 'x']).message).toMatch(/--allowed-host all .* cannot be combined/);
    expect(usageError(['demo', '--allowed-host']).message).toBe('--allowed-host needs a value');
  });
});

describe('parseCliArgs: turbine', () => {
  it('collects --stream URLs and --dns names (path defaulting to /hystrix.stream), with its own default port', () => {
    expect(
      parseCliArgs(['turbine', '--stream', 'http://10.0.0.5:8080/hystrix.stream', '--dns', 'orders.internal:8080', '--dns=api:9000/s', '--host', '0.0.0.0']),
    ).toEqual({
      kind: 'turbine',
      port: 8989,
      host: '0.0.0.0',
      streams: ['http://10.0.0.5:8080/hystrix.stream'],
      dns: [
        { dns: 'orders.internal:8080', path: '/hystrix.stream' },
        { dns: 'api:9000', path: '/s' },
      ],
    });
    expect(parseCliArgs(['turbine', '--dns', 'a:1'], { PORT: '0' })).toMatchObject({ port: 0 });
    expect(parseCliArgs(['help', 'turbine'])).toEqual({ kind: 'help', topic: 'turbine' });
  });

  it('refuses a turbine without instances, a bad --dns, and dashboard-only mistakes, naming the subcommand', () => {
    const none = usageError(['turbine', '--port', '0']);
    expect(none.message).toBe("'turbine' needs at least one --stream URL or --dns NAME:PORT");
    expect(none.subcommand).toBe('turbine');
    expect(() => parseCliArgs(['turbine', '--dns', 'no-port'])).toThrow(/--dns must be NAME:PORT/);
    expect(() => parseCliArgs(['turbine', '--dns', 'a:70000'])).toThrow(/--dns must be NAME:PORT/);
    expect(() => parseCliArgs(['turbine', '--stream', 'ftp://x/'])).toThrow(/--stream must be an http/);
    expect(() => parseCliArgs(['dashboard', '--dns', 'a:1'])).toThrow(/unknown option "--dns" for 'dashboard'/);
    expect(usageOf('turbine')).toMatch(/--stream URL[\s\S]*--dns NAME:PORT[\s\S]*--port N[\s\S]*--host HOST/);
    expect(usageOf()).toMatch(/turbine +Aggregate many instances/);
  });
});
