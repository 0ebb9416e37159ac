import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closest, formatDiagnostic, type Diagnostic } from './diagnostics';
import { loadCorpus, loadScenarioText, scenarioFiles } from './load';

/*
 * Authoring errors (docs/scenarios.md, issue 5 section 1): each is a Diagnostic at the offending
 * node (1-based file:line:col), with the offending text, what was expected and a hint; every
 * error of a file and of a corpus is reported, and a broken file never stops the others.
 */

const HEAD = 'id: t.case\ntitle: a test scenario\nrefs: [xen/common/event_channel.c]\n';

/** The diagnostics of a scenario text (none when it loads). */
function diagnose(text: string): Diagnostic[] {
  return loadScenarioText('t.yaml', text).diagnostics;
}

/** The one diagnostic of a scenario text. */
function only(text: string): Diagnostic {
  const ds = diagnose(text);
  if (ds.length !== 1) throw new Error(`expected one diagnostic, got ${ds.length}:\n${ds.map(formatDiagnostic).join('\n')}`);
  return ds[0] as Diagnostic;
}

/** The 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function at(text: string, needle: string, nth = 1): { line: number; col: number } {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" is not in the text ${nth} times`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: (before[before.length - 1] as string).length + 1 };
}

describe('valid scenarios load', () => {
  test('a Xen-level scenario with saved values, named buffers and every value form', () => {
    const text =
      HEAD +
      'steps:\n' +
      '  - upcallMask: 0\n' +
      '  - call: event_channel_op\n' +
      '    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, as: alloc, dom: DOMID_SELF, remote_dom: 0 }]\n' +
      '    expect: { return: 0, alloc: { port: 1 } }\n' +
      '    save: { port: alloc.port }\n' +
      '  - mask: $port\n' +
      '  - call: 0x20\n' +
      '    args: [EVTCHNOP_send, { u32s: [$port], as: raw }, { bytes: "0102", as: b2 }]\n' +
      '    expect: { return: "-XEN_EINVAL", raw: { u32s: [$port+0] }, b2: { bytes: "0102" } }\n' +
      '  - advance: 5ms\n' +
      '    expect: { events: [], memory: [{ at: $shared_info, u8: 0 }, { at: "$shared_info+8", bytes: "00" }] }\n' +
      '  - call: __HYPERVISOR_sched_op\n' +
      '    args: [SCHEDOP_shutdown, { struct: sched_shutdown, reason: SHUTDOWN_crash }]\n' +
      '    expect: { shutdown: any }\n';
    const loaded = loadScenarioText('t.yaml', text);
    expect(loaded.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(loaded.scenario?.scenario.id).toBe('t.case');
    expect(loaded.scenario?.scenario.steps).toHaveLength(6);
  });

  test('a world: viridian scenario with its own steps and built-in values', () => {
    const text =
      HEAD +
      'world: viridian\n' +
      'profiles: [modern]\n' +
      'steps:\n' +
      '  - rdmsr: HV_X64_MSR_VP_INDEX\n' +
      '    expect: { value: 0 }\n' +
      '  - hv: { call: HvCallSignalEvent, fast: true, input: { struct: hv_signal_event, connection_id: 77 } }\n' +
      '    expect: { status: HV_STATUS_INVALID_CONNECTION_ID }\n' +
      '    save: { s: status }\n' +
      '  - wrmsr: { msr: HV_X64_MSR_TPR, value: $s }\n' +
      '  - store: { at: $input_page, u8: 1 }\n' +
      '  - root: { op: takeMessages, id: 1 }\n';
    expect(diagnose(text).map(formatDiagnostic)).toEqual([]);
  });
});

describe('YAML and schema errors', () => {
  test('a YAML syntax error is reported at its place', () => {
    const d = only(HEAD + 'steps:\n  - call: [event_channel_op\n');
    expect(d).toMatchObject({ file: 't.yaml', line: 6, col: 1, expected: 'valid YAML', hint: 'check indentation and closing brackets' });
    expect(d.message).toMatch(/^YAML: Flow sequence/);
  });

  test('a duplicate key is a YAML error on the second key', () => {
    const text = HEAD + 'steps:\n  - advance: 1\n    advance: 2\n';
    const d = only(text);
    expect(d).toMatchObject({ ...at(text, 'advance', 2), text: 'advance: 2', message: 'YAML: Map keys must be unique' });
  });

  test('an empty file, and a file that is not a mapping', () => {
    expect(only('')).toMatchObject({ line: 1, col: 1, message: 'the file is empty', expected: 'a scenario: id, title, refs, steps' });
    expect(only('- a\n- b\n')).toMatchObject({ line: 1, col: 1, message: 'the scenario must be object', expected: 'a value of type object' });
  });

  test('a missing field points at the mapping that lacks it', () => {
    expect(only('id: t.case\nrefs: [r]\nsteps:\n  - advance: 1\n')).toMatchObject({ line: 1, col: 1, text: 'id: t.case', message: 'missing field "title"', expected: 'a "title" field here', hint: 'add "title:" (docs/scenarios.md)' });
  });

  test('a misspelt top-level field points at the key and suggests the right one', () => {
    const text = HEAD + 'stpes: []\nsteps:\n  - advance: 1\n';
    expect(only(text)).toMatchObject({ ...at(text, 'stpes'), text: 'stpes', message: 'unknown field "stpes"', hint: 'did you mean "steps"?' });
  });

  test('a misspelt step key points at the key and suggests the right one', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    arsg: [1]\n';
    const d = only(text);
    expect(d).toMatchObject({ ...at(text, 'arsg'), text: 'arsg', message: 'unknown field "arsg"', hint: 'did you mean "args"?' });
    expect(d.expected).toContain('call, store, mask');
  });

  test('a wrong type, a bad id, too few and too many items', () => {
    const vcpus = HEAD + 'setup: { vcpus: two }\nsteps:\n  - advance: 1\n';
    expect(only(vcpus)).toMatchObject({ ...at(vcpus, 'two'), text: 'two', message: 'setup.vcpus must be integer', expected: 'a value of type integer' });
    const id = 'id: Bad Id\ntitle: t\nrefs: [r]\nsteps:\n  - advance: 1\n';
    expect(only(id)).toMatchObject({ ...at(id, 'Bad Id'), text: 'Bad Id', expected: 'text matching ^[a-z0-9][a-z0-9._-]*$' });
    const steps = HEAD + 'steps: []\n';
    expect(only(steps)).toMatchObject({ ...at(steps, '[]'), message: 'steps must NOT have fewer than 1 items', expected: 'at least 1 item(s)' });
    const args = HEAD + 'steps:\n  - call: 1\n    args: [1, 2, 3, 4, 5, 6]\n';
    expect(only(args)).toMatchObject({ ...at(args, '[1, 2'), message: 'steps.0.args must NOT have more than 5 items', expected: 'at most 5 item(s)' });
  });

  test('a value outside an enum gets "did you mean"', () => {
    const text = HEAD + 'xen: { guestType: pvhmv }\nsteps:\n  - advance: 1\n';
    expect(only(text)).toMatchObject({ ...at(text, 'pvhmv'), text: 'pvhmv', message: '"pvhmv" is not allowed here', expected: 'one of: "pv", "pvhvm"', hint: 'did you mean "pvhvm"?' });
  });

  test('a misspelt profile is reported at the list item with a suggestion', () => {
    const text = HEAD + 'profiles: [modren]\nsteps:\n  - advance: 1\n';
    expect(diagnose(text)).toContainEqual(expect.objectContaining({ ...at(text, 'modren'), text: 'modren', hint: 'did you mean "modern"?' }));
  });

  test('several schema errors of one file are all reported', () => {
    const text = 'id: t.case\nrefs: []\nsetup: { vcpus: two }\nsteps:\n  - upcallMask: 2\n';
    expect(diagnose(text).map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      '1:1 missing field "title"',
      '2:7 refs must NOT have fewer than 1 items',
      '3:17 setup.vcpus must be integer',
      '5:17 "2" is not allowed here',
    ]);
  });

  // Bug: validateScenario returns after the schema errors, so a file with a schema error hides its semantic errors (an unknown hypercall here); "all errors are reported together" (docs/scenarios.md).
  test.failing('a schema error does not hide the semantic errors of the same file', () => {
    const text = HEAD + 'steps:\n  - upcallMask: 2\n  - call: event_chanel_op\n';
    expect(diagnose(text).map((d) => d.message)).toEqual(['"2" is not allowed here', 'unknown hypercall "event_chanel_op"']);
  });
});

describe('names: hypercalls, constants, structs, fields, keys, operations', () => {
  test('a misspelt hypercall', () => {
    const text = HEAD + 'steps:\n  - call: event_chanel_op\n    args: [EVTCHNOP_send]\n';
    expect(only(text)).toEqual({
      file: 't.yaml',
      ...at(text, 'event_chanel_op'),
      text: 'event_chanel_op',
      message: 'unknown hypercall "event_chanel_op"',
      expected: 'a __HYPERVISOR_ name such as event_channel_op, or a number',
      hint: 'did you mean event_channel_op?',
    });
  });

  test('a hypercall by number, hex string or __HYPERVISOR_ name is accepted', () => {
    expect(diagnose(HEAD + 'steps:\n  - call: 32\n  - call: "0x20"\n  - call: __HYPERVISOR_xen_version\n')).toEqual([]);
  });

  test('a misspelt constant in an argument', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_sned, 0]\n';
    const d = only(text);
    expect(d).toMatchObject({ ...at(text, 'EVTCHNOP_sned'), text: 'EVTCHNOP_sned', message: 'unknown name "EVTCHNOP_sned"', hint: 'did you mean EVTCHNOP_send?' });
    expect(d.expected).toContain('an ABI constant');
  });

  test('a misspelt negated constant in an expectation', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_send, 0]\n    expect: { return: -XEN_EINVLA }\n';
    expect(only(text)).toMatchObject({ ...at(text, '-XEN_EINVLA'), message: 'unknown name "XEN_EINVLA"', hint: 'did you mean XEN_EINVAL?' });
  });

  test('a misspelt struct and a misspelt struct field', () => {
    const s = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_send, { struct: evtchn_prot_arg, port: 1 }]\n';
    expect(only(s)).toMatchObject({ ...at(s, 'evtchn_prot_arg'), text: 'evtchn_prot_arg', message: 'unknown struct "evtchn_prot_arg"', hint: 'did you mean evtchn_port_arg?' });
    const f = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_send, { struct: evtchn_port_arg, prot: 1 }]\n';
    expect(only(f)).toMatchObject({ ...at(f, 'prot'), text: 'prot', message: 'evtchn_port_arg has no field "prot"', expected: 'one of: port', hint: 'did you mean port?' });
  });

  test('a misspelt field of a Viridian input struct', () => {
    const text = HEAD + 'world: viridian\nsteps:\n  - hv: { call: HvCallSignalEvent, input: { struct: hv_signal_event, connection_idd: 77 } }\n';
    expect(only(text)).toMatchObject({ ...at(text, 'connection_idd'), message: 'hv_signal_event has no field "connection_idd"', hint: 'did you mean connection_id?' });
  });

  test('a misspelt expectation key', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_send, { struct: evtchn_port_arg, port: 1 }]\n    expect: { retrun: 0 }\n';
    const d = only(text);
    expect(d).toMatchObject({ ...at(text, 'retrun'), text: 'retrun', message: 'unknown expectation "retrun"', hint: 'did you mean "return"?' });
    expect(d.expected).toContain('return, status');
  });

  test('an expectation on a struct field that does not exist', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]\n    expect: { out: { prot: 1 } }\n';
    expect(only(text)).toMatchObject({ message: 'evtchn_alloc_unbound has no field "prot"', expected: 'one of: dom, remote_dom, port', hint: 'did you mean port?' });
  });

  // Bug: SemanticCheck.expect checks a buffer's fields without key=true, so the diagnostic points at the value (`1`) instead of the misspelt field name.
  test.failing('an expectation on a misspelt struct field points at the field name', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]\n    expect: { out: { prot: 1 } }\n';
    expect(only(text)).toMatchObject({ ...at(text, 'prot'), text: 'prot' });
  });

  test('a misspelt peer operation and a misspelt peer argument', () => {
    const op = HEAD + 'steps:\n  - peer: { op: alocUnbound, remoteDom: 0 }\n';
    expect(only(op)).toMatchObject({ ...at(op, 'alocUnbound'), text: 'alocUnbound', message: 'unknown peer operation "alocUnbound"', hint: 'did you mean allocUnbound?' });
    const arg = HEAD + 'steps:\n  - peer: { op: allocUnbound, remoteDomm: 0 }\n';
    expect(only(arg)).toMatchObject({ ...at(arg, 'remoteDomm'), text: 'remoteDomm', message: 'peer allocUnbound takes no "remoteDomm"', expected: 'one of: remoteDom', hint: 'did you mean remoteDom?' });
  });

  test('a misspelt Viridian call and root operation', () => {
    const hv = HEAD + 'world: viridian\nsteps:\n  - hv: { call: HvCallSignalEvnt }\n';
    expect(only(hv)).toMatchObject({ ...at(hv, 'HvCallSignalEvnt'), message: 'unknown Viridian call "HvCallSignalEvnt"', hint: 'did you mean HvCallSignalEvent?' });
    const root = HEAD + 'world: viridian\nsteps:\n  - root: { op: takeMesages }\n';
    expect(only(root)).toMatchObject({ ...at(root, 'takeMesages'), message: 'unknown root operation "takeMesages"', hint: 'did you mean takeMessages?' });
  });

  test('closest suggests within a third of the length, case-insensitively, and nothing for a stranger', () => {
    expect(closest('EVTCHNOP_SEND', ['EVTCHNOP_send', 'EVTCHNOP_close'])).toBe('EVTCHNOP_send');
    expect(closest('xyzzy', ['event_channel_op', 'sched_op'])).toBeUndefined();
  });
});

describe('steps, worlds and vCPUs', () => {
  test('a Viridian-level step in a Xen-level scenario', () => {
    const text = HEAD + 'steps:\n  - rdmsr: HV_X64_MSR_VP_INDEX\n';
    const d = only(text);
    expect(d).toMatchObject({ ...at(text, 'rdmsr'), text: 'rdmsr', message: '"rdmsr" is not a step of a world: xen scenario', hint: 'Viridian-level steps need world: viridian at the top' });
    expect(d.expected).toContain('call, store, mask');
  });

  test('a Xen hypercall in a world: viridian scenario', () => {
    const text = HEAD + 'world: viridian\nsteps:\n  - call: event_channel_op\n';
    const d = only(text);
    expect(d).toMatchObject({ ...at(text, 'call'), message: '"call" is not a step of a world: viridian scenario', hint: 'Xen hypercalls need world: xen (the default)' });
    expect(d.expected).toContain('hv, rdmsr');
  });

  test('a step with two actions, or none', () => {
    const two = HEAD + 'steps:\n  - mask: 1\n    unmask: 1\n';
    expect(only(two)).toMatchObject({ ...at(two, 'mask: 1'), message: 'the step has 2 actions (mask, unmask)', hint: 'split it into one step per action' });
    const none = HEAD + 'steps:\n  - name: nothing\n';
    expect(only(none)).toMatchObject({ ...at(none, 'name'), message: 'the step has no action' });
  });

  test('a vCPU that does not exist, in a step and in setup.online', () => {
    const step = HEAD + 'steps:\n  - mask: 1\n    vcpu: 5\n';
    expect(only(step)).toMatchObject({ ...at(step, '5'), message: 'vCPU 5 does not exist', expected: 'a vCPU below setup.vcpus (2)' });
    const online = HEAD + 'setup: { vcpus: 2, online: [0, 3] }\nsteps:\n  - advance: 1\n';
    expect(only(online)).toMatchObject({ ...at(online, '3]'), message: 'vCPU 3 does not exist' });
  });

  test('a buffer that is several things', () => {
    const text = HEAD + 'steps:\n  - call: 1\n    args: [{ u32s: [1], bytes: "00" }]\n';
    expect(only(text)).toMatchObject({ ...at(text, '{ u32s'), message: 'the buffer is several things (u32s, bytes)', expected: 'exactly one of struct, u32s, u64s, bytes, zeros, ptr' });
  });

  test('a bad duration', () => {
    const text = HEAD + 'steps:\n  - advance: 5 parsecs\n';
    expect(only(text)).toMatchObject({ ...at(text, '5 parsecs'), message: '"5 parsecs" is not a duration', expected: 'nanoseconds, or a number with a unit: 37ns, 10us, 5ms, 2s' });
  });

  test('a YAML number above 2^53 is refused where it stands', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [18446744073709551615]\n';
    expect(only(text)).toMatchObject({ ...at(text, '18446744073709551615'), text: '18446744073709551615', message: '18446744073709552000 is not an exact integer', expected: 'an integer below 2^53, or a string for bigger values' });
    expect(diagnose(HEAD + 'steps:\n  - call: event_channel_op\n    args: ["0xffffffffffffffff"]\n')).toEqual([]);
  });
});

describe('saved values', () => {
  test('a value used before the step that saves it; the hint lists what is saved so far', () => {
    const text =
      HEAD +
      'steps:\n  - mask: $port\n' +
      '  - call: event_channel_op\n    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]\n    save: { port: out.port }\n' +
      '  - mask: $port\n';
    expect(only(text)).toEqual({
      file: 't.yaml',
      ...at(text, '$port'),
      text: '$port',
      message: '$port is used before any step saves it',
      expected: 'a name saved by an earlier step (save: { name: path })',
      hint: 'saved so far: $shared_info, $grant_table, $now',
    });
  });

  test('built-in values belong to their world', () => {
    const xen = HEAD + 'steps:\n  - mask: $input_page\n';
    expect(only(xen)).toMatchObject({ message: '$input_page is used before any step saves it' });
    const viridian = HEAD + 'world: viridian\nsteps:\n  - store: { at: $shared_info, u8: 1 }\n';
    expect(only(viridian)).toMatchObject({ message: '$shared_info is used before any step saves it', hint: 'saved so far: $input_page, $output_page' });
  });

  test('what can be saved: return, result, value, status, reps or BUFFER.FIELD', () => {
    const none = HEAD + 'steps:\n  - advance: 1ms\n    save: { x: out.port }\n';
    expect(only(none)).toMatchObject({ ...at(none, 'out.port'), message: 'cannot save "out.port"' });
    expect(only(none).expected).toContain('(none here)');
    const field = HEAD + 'steps:\n  - call: event_channel_op\n    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]\n    save: { port: out.prot }\n';
    expect(only(field)).toMatchObject({ ...at(field, 'out.prot'), message: 'evtchn_alloc_unbound has no field "prot"', hint: 'did you mean port?' });
    const name = HEAD + 'steps:\n  - call: xen_version\n    args: [0, 0]\n    save: { "9x": return }\n';
    expect(only(name)).toMatchObject({ ...at(name, '"9x"'), message: '"9x" cannot be a saved name' });
  });

  test('a peer result saved and used later', () => {
    expect(diagnose(HEAD + 'steps:\n  - peer: { op: allocUnbound, remoteDom: 1 }\n    save: { p: result }\n  - peerSend: $p\n')).toEqual([]);
  });

  // Bug: SemanticCheck.step checks advance/advanceTo with evalDuration only, never varsOf, so an unsaved $name there passes validate and the run fails later as an adapter error.
  test.failing('an unsaved value in advanceTo is an authoring error', () => {
    const text = HEAD + 'steps:\n  - advanceTo: $deadline\n';
    expect(only(text)).toMatchObject({ ...at(text, '$deadline'), message: '$deadline is used before any step saves it' });
  });

  // Bug: SemanticCheck.expect never checks events[].at / events[].value, so unsaved names and bad durations there pass validate.
  test.failing('an unsaved value or a bad duration in events[].at is an authoring error', () => {
    const unsaved = HEAD + 'steps:\n  - advance: 1ms\n    expect: { events: [{ upcall: 0, at: $nope }] }\n';
    expect(only(unsaved)).toMatchObject({ ...at(unsaved, '$nope'), message: '$nope is used before any step saves it' });
    const bad = HEAD + 'steps:\n  - advance: 1ms\n    expect: { events: [{ upcall: 0, at: 5 parsecs }] }\n';
    expect(only(bad)).toMatchObject({ ...at(bad, '5 parsecs') });
  });

  // Bug: SemanticCheck.expect never checks tlb.has / tlb.lacks (nor interrupts), so an unknown constant there passes validate.
  test.failing('an unknown name in tlb.lacks is an authoring error', () => {
    const text = HEAD + 'steps:\n  - advance: 1ms\n    expect: { tlb: { vcpu: 0, lacks: [NOPE_NAME] } }\n';
    expect(only(text)).toMatchObject({ ...at(text, 'NOPE_NAME'), message: 'unknown name "NOPE_NAME"' });
  });
});

describe('raw buffers, shutdown and memory expectations', () => {
  test('a raw buffer named with as: is checked with u32s, u64s or bytes only', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [1, { u32s: [1, 2], as: raw }]\n    expect: { raw: { u32s: [1, $nope], fields: 1 } }\n';
    const ds = diagnose(text);
    expect(ds.map((d) => d.message)).toEqual(['$nope is used before any step saves it', '"fields" is not how a buffer without a struct is checked']);
    expect(ds[0]).toMatchObject(at(text, '$nope'));
    expect(ds[1]?.expected).toBe("u32s: [...], u64s: [...] or bytes: hex, from the buffer's address");
  });

  test('only struct buffers have fields to save', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [1, { u64s: [1], as: raw }]\n    save: { p: raw.x }\n';
    expect(only(text)).toMatchObject({ ...at(text, 'raw.x'), message: 'only struct buffers have fields', expected: 'a buffer given with struct:' });
  });

  test('an expectation on a buffer name no argument has', () => {
    const text = HEAD + 'steps:\n  - call: event_channel_op\n    args: [1, { u32s: [1], as: raw }]\n    expect: { rwa: { u32s: [1] } }\n';
    expect(only(text)).toMatchObject({ ...at(text, 'rwa'), message: 'unknown expectation "rwa"', hint: 'did you mean "raw"?' });
  });

  test('shutdown: any is allowed; a misspelt reason is not', () => {
    const call = 'steps:\n  - call: sched_op\n    args: [SCHEDOP_shutdown, { struct: sched_shutdown, reason: SHUTDOWN_crash }]\n';
    expect(diagnose(HEAD + call + '    expect: { shutdown: any }\n')).toEqual([]);
    const bad = HEAD + call + '    expect: { shutdown: SHUTDOWN_crsh }\n';
    expect(only(bad)).toMatchObject({ ...at(bad, 'SHUTDOWN_crsh'), message: 'unknown name "SHUTDOWN_crsh"', hint: 'did you mean SHUTDOWN_crash?' });
  });

  test('memory: one expectation or a list, each value checked at its place', () => {
    const one = HEAD + 'steps:\n  - store: { at: 0x1000, u32: 5 }\n    expect: { memory: { at: 0x1000, u32: BAD } }\n';
    expect(only(one)).toMatchObject({ ...at(one, 'BAD'), message: 'unknown name "BAD"' });
    const list = HEAD + 'steps:\n  - store: { at: 0x1000, u32: 5 }\n    expect: { memory: [{ at: 0x1000, u32: 5 }, { at: NOPE, u8: 1 }] }\n';
    expect(only(list)).toMatchObject({ ...at(list, 'NOPE'), message: 'unknown name "NOPE"' });
  });
});

describe('several errors, several files', () => {
  test('every semantic error of a file is reported, each at its place', () => {
    const text = HEAD + 'steps:\n  - call: event_chanel_op\n  - mask: NOPE\n  - advance: 1ms\n    save: { x: out.port }\n  - peer: { op: alocUnbound }\n';
    expect(diagnose(text).map((d) => [d.line, d.col, d.message])).toEqual([
      [at(text, 'event_chanel_op').line, at(text, 'event_chanel_op').col, 'unknown hypercall "event_chanel_op"'],
      [at(text, 'NOPE').line, at(text, 'NOPE').col, 'unknown name "NOPE"'],
      [at(text, 'out.port').line, at(text, 'out.port').col, 'cannot save "out.port"'],
      [at(text, 'alocUnbound').line, at(text, 'alocUnbound').col, 'unknown peer operation "alocUnbound"'],
    ]);
  });

  test('formatDiagnostic: file:line:col, the text, expected and hint', () => {
    const text = HEAD + 'steps:\n  - call: event_chanel_op\n';
    expect(formatDiagnostic(only(text))).toBe(
      [
        't.yaml:5:11: error: unknown hypercall "event_chanel_op"',
        '    event_chanel_op',
        '  expected: a __HYPERVISOR_ name such as event_channel_op, or a number',
        '  hint: did you mean event_channel_op?',
      ].join('\n'),
    );
  });

  describe('loadCorpus over a folder', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-corpus-'));
      const scenario = (id: string, extra = '') => `id: ${id}\ntitle: t\nrefs: [r]\nsteps:\n  - advance: 1ms${extra}\n`;
      fs.mkdirSync(path.join(dir, 'area'));
      fs.writeFileSync(path.join(dir, 'a-good.yaml'), scenario('c.a'));
      fs.writeFileSync(path.join(dir, 'b-syntax.yaml'), 'id: c.b\ntitle: [oops\n');
      fs.writeFileSync(path.join(dir, 'c-unknown.yaml'), 'id: c.c\ntitle: t\nrefs: [r]\nsteps:\n  - call: event_chanel_op\n');
      fs.writeFileSync(path.join(dir, 'd-missing.yml'), 'id: c.d\nrefs: [r]\nsteps:\n  - advance: 1\n');
      fs.writeFileSync(path.join(dir, 'area', 'e-good.yaml'), scenario('c.e'));
      fs.writeFileSync(path.join(dir, 'area', 'f-duplicate.yaml'), scenario('c.a'));
      fs.writeFileSync(path.join(dir, 'area', 'notes.txt'), 'not a scenario');
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('the good files load, each bad file gives its diagnostics, a duplicate id is refused', () => {
      const corpus = loadCorpus(['.', 'nowhere'], dir);
      expect(corpus.files).toBe(6);
      expect(corpus.scenarios.map((s) => [s.file, s.scenario.id])).toEqual([
        ['a-good.yaml', 'c.a'],
        [path.join('area', 'e-good.yaml'), 'c.e'],
      ]);
      expect(corpus.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.message}`)).toEqual([
        'nowhere:1:1 no such file or directory',
        `${path.join('area', 'f-duplicate.yaml')}:1:5 duplicate id "c.a"`,
        expect.stringMatching(/^b-syntax\.yaml:3:1 YAML: /),
        'c-unknown.yaml:5:11 unknown hypercall "event_chanel_op"',
        'd-missing.yml:1:1 missing field "title"',
      ]);
      expect(corpus.diagnostics[1]).toMatchObject({ text: 'c.a', expected: 'an id no other scenario uses', hint: 'it is also the id of a-good.yaml' });
    });

    test('scenarioFiles finds *.yaml and *.yml, sorted, and names what is missing', () => {
      const found = scenarioFiles([dir, path.join(dir, 'a-good.yaml'), path.join(dir, 'gone')]);
      expect(found.files.map((f) => path.relative(dir, f))).toEqual(['a-good.yaml', path.join('area', 'e-good.yaml'), path.join('area', 'f-duplicate.yaml'), 'b-syntax.yaml', 'c-unknown.yaml', 'd-missing.yml']);
      expect(found.missing).toEqual([path.join(dir, 'gone')]);
    });
  });
});
