// The README's Vue example, type-checked.
import { defineComponent, h } from 'vue';
import { createClient } from '@vestibule/client';
import { useSession } from '@vestibule/client/vue';

const vestibule = createClient();

export default defineComponent({
  setup() {
    const { status, session, error, ended, stepUp, expiring, extend, login, refresh } = useSession(vestibule);
    return () => {
      switch (status.value) {
        case 'loading': return h('p', 'Loading…');
        case 'error': return h('button', { onClick: () => void refresh() }, error.value?.message);
        case 'signed-out': return h('button', { onClick: () => login() }, `Sign in ${ended.value?.reason ?? ''}`);
        case 'step-up': return h('a', { href: stepUp.value?.loginUrl }, 'Confirm it is you');
        default: return h('main', [
          h('p', `Signed in as ${String(session.value?.claims['name'])}`),
          expiring.value ? h('button', { onClick: () => void extend() }, `Stay signed in (${expiring.value.expiresIn} s)`) : null,
        ]);
      }
    };
  },
});
