// First in, first out: an agent takes the oldest ticket assigned to them first, then the oldest
// unassigned one; nobody is handed a ticket someone else holds. Against the dev server, the worker and
// API processes and PostgreSQL, in a database of its own so "oldest" means these tickets.
import { deskProcesses } from './desk-processes';
import { eventually } from './eventually';

const { http } = deskProcesses({ taskQueue: `queue-${process.pid}`, use: () => undefined });

async function fileTickets(...subjects: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const subject of subjects) ids.push((await http('POST', '/tickets', { subject })).body.id);
  // The projection row is written by each workflow's first task, a moment after the 201.
  await eventually(
    () => http('GET', '/tickets?status=open&limit=500'),
    (r) => ids.every((id) => r.body.tickets.some((t: { id: string }) => t.id === id)),
  );
  return ids;
}

/** The agent asking is the one whose key the request carries. */
const next = async (agent: string): Promise<string | null> => {
  const res = await http('POST', '/tickets/next', {}, { as: agent, role: 'agent' });
  expect(res.status).toBe(200);
  return res.body.ticket?.id ?? null;
};

describe('taking the next ticket', () => {
  it('gives an agent their own oldest ticket first, then the oldest unassigned one, and never someone else\'s', async () => {
    const [a, b, c] = await fileTickets('first', 'second', 'third');
    await http('POST', `/tickets/${c}/assign`, { assignee: 'dora' }, { as: 'lead' });

    expect(await next('dora')).toBe(c); // hers, although a and b are older
    expect(await next('erin')).toBe(a); // the oldest unassigned becomes hers
    expect((await http('GET', `/tickets/${a}`)).body).toMatchObject({ assignee: 'erin' });
    expect(await next('erin')).toBe(a); // still hers until it is done
    expect(await next('frank')).toBe(b);
    expect(await next('gus')).toBeNull(); // every ticket is someone's

    await http('POST', `/tickets/${a}/resolve`, { resolution: 'Done.' }, { as: 'erin', role: 'agent' });
    const none = await http('POST', '/tickets/next', {}, { as: 'erin', role: 'agent' });
    expect(none.body).toEqual({ ticket: null, message: 'no open ticket for erin or unassigned' });
  });

  it('two agents asking at the same moment never get the same ticket', async () => {
    const [d] = await fileTickets('only one');
    const [first, second] = await Promise.all([next('hana'), next('ivan')]);
    expect([first, second].filter((id) => id === d)).toHaveLength(1);
    expect([first, second]).toContain(null);
  });

  it('takes no agent from the body: who asks is the credential', async () => {
    const res = await http('POST', '/tickets/next', { agent: 'dora' }, { as: 'mallory', role: 'agent' });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: 'agent', message: expect.stringMatching(/signed in as/) }]);
  });
});
