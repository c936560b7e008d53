/**
 * What a person does in the Temporal Web UI (UI server 2.42), as playwright steps: fill the Start
 * Workflow form, open a run's page, read its status, filter the list. Selectors are the labels,
 * roles and texts a user sees; the form's two code editors (input JSON, summary markdown) have no
 * accessible name, so they are found by their role and the language they edit.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** The fields of the Start Workflow form. */
export interface StartWorkflowForm {
  workflowId: string;
  taskQueue: string;
  workflowType: string;
  /** The input, as JSON text (a single json/plain payload). */
  input: string;
  /** User Metadata → Summary, under "More options" (markdown). */
  summary?: string;
}

/** The address of a page of the UI, in a namespace. */
export function uiUrl(base: string, namespace: string, rest: string): string {
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${rest}`;
}

/**
 * Opens the Start Workflow form, fills it, submits it, and resolves once the UI says the workflow
 * started. Waits for the form to report the task queue active (a worker polls it) before going on.
 */
export async function startWorkflowFromForm(page: Page, base: string, namespace: string, form: StartWorkflowForm): Promise<void> {
  await page.goto(uiUrl(base, namespace, 'workflows/start-workflow'));
  await page.getByRole('heading', { name: 'Start a Workflow' }).waitFor();
  if (form.summary !== undefined) {
    // Opened first: the form grows as it is filled (the task queue check below), which can move
    // the button away from under a click.
    await page.getByRole('button', { name: 'More options' }).click();
    await page.getByRole('heading', { name: 'User Metadata' }).waitFor();
    // User Metadata has two markdown editors, Summary then Details.
    await page.locator('[role="textbox"][data-language="markdown"]').first().fill(form.summary);
  }
  await page.getByRole('textbox', { name: 'Workflow ID' }).fill(form.workflowId);
  await page.getByRole('textbox', { name: 'Task Queue' }).fill(form.taskQueue);
  // The UI checks the queue when the field loses focus, and says whether a worker polls it.
  await page.getByRole('textbox', { name: 'Task Queue' }).press('Tab');
  await page.getByRole('status').getByText('Task Queue is Active').waitFor();
  await page.getByRole('textbox', { name: 'Workflow Type' }).fill(form.workflowType);
  await page.locator('[role="textbox"][data-language="json"]').fill(form.input);
  await page.getByRole('button', { name: 'Start Workflow' }).click();
  await page.getByText('Workflow started successfully').waitFor();
}

/**
 * Opens the page of a workflow's latest run (the UI redirects to its event history). The UI server
 * answers with an "Internal Error" page when its call to a busy server fails; like a person
 * following that page's "Try a refresh", this loads the page again, until `ms` have passed.
 */
export async function openRunPage(page: Page, base: string, namespace: string, workflowId: string, ms = 2 * 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  const heading = page.getByRole('heading', { level: 1, name: workflowId });
  const errorPage = page.getByText('Internal Error');
  for (;;) {
    await page.goto(uiUrl(base, namespace, `workflows/${encodeURIComponent(workflowId)}`));
    await heading.or(errorPage).first().waitFor({ timeout: Math.max(1000, deadline - Date.now()) });
    if (await heading.isVisible()) return;
    if (Date.now() > deadline) throw new Error(`the UI showed an Internal Error page for ${workflowId} for ${ms} ms`);
    await page.waitForTimeout(2000);
  }
}

/** On the run's page, opens the User Metadata tab: the summary's frame, and the tab (its "Events with Metadata" list the activity summaries). */
export async function openUserMetadata(page: Page): Promise<{ summary: FrameLocator; tab: Locator }> {
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  await page.getByRole('heading', { name: 'Summary', level: 3 }).waitFor();
  // The UI renders a summary's markdown in a sandboxed frame, the first of the tab.
  return { summary: page.locator('main iframe').first().contentFrame(), tab: page.locator('main') };
}

/**
 * Reloads the run's page until its header shows `status` (Running, Completed, Failed …); rejects
 * after `ms` with the status last shown.
 */
export async function waitForRunStatus(page: Page, base: string, namespace: string, workflowId: string, status: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    await openRunPage(page, base, namespace, workflowId);
    const badge = page.locator('main header').getByText(status, { exact: true });
    if (await badge.isVisible()) return;
    if (Date.now() > deadline) {
      const shown = (await page.locator('main header').innerText()).replace(/\s+/g, ' ');
      throw new Error(`the UI did not show ${workflowId} as ${status} within ${ms} ms; its header shows: ${shown}`);
    }
    await page.waitForTimeout(2000);
  }
}

/** Opens the workflow list filtered by a list query, as typed in the UI's filter. */
export async function openFilteredList(page: Page, base: string, namespace: string, query: string): Promise<void> {
  await page.goto(uiUrl(base, namespace, `workflows?query=${encodeURIComponent(query)}`));
}
