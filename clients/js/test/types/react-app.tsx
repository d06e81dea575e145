// The README's React example, type-checked.
import { createClient, StepUpRequired } from '@vestibule/client';
import { useSession } from '@vestibule/client/react';

const vestibule = createClient();

export function App() {
  const s = useSession(vestibule);
  if (s.status === 'loading') return <p>Loading…</p>;
  if (s.status === 'error') return <button onClick={() => void s.refresh()}>{s.error?.message}</button>;
  if (s.status === 'signed-out') return <button onClick={() => s.login()}>Sign in {s.ended?.reason}</button>;
  if (s.status === 'step-up') return <a href={s.stepUp?.loginUrl}>Confirm it is you</a>;
  const call = async () => {
    try { await s.api('/api/me'); } catch (e) { if (!(e instanceof StepUpRequired)) throw e; }
  };
  return (
    <main>
      <p>Signed in as {String(s.session?.claims['name'])}</p>
      {s.expiring && <button onClick={() => void s.extend()}>Stay signed in ({s.expiring.expiresIn} s left)</button>}
      <button onClick={() => void call()}>Call</button>
      <button onClick={() => void s.logout()}>Sign out</button>
    </main>
  );
}
