/**
 * Publishes completion events to SNS (FILE_EVENTS_TOPIC_ARN), with the SDK's own retries. A publish that
 * still fails is a transient failure of the file's message: the message comes back, the file is processed
 * again (the same outputs, byte for byte) and the event is published again with the same id.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { TransientFileError } from '../errors.ts';
import { errorMessage } from '../common/error-message.ts';
import { fileEventAttributes, fitForSns, type FileProcessedEvent } from './file-event.ts';

export interface FileEventPublisher {
  /** Resolves to SNS's message id; rejects with a TransientFileError. */
  publish(event: FileProcessedEvent, signal: AbortSignal): Promise<string | undefined>;
}

export function createFileEventPublisher(sns: SNSClient, topicArn: string): FileEventPublisher {
  return {
    async publish(event, signal) {
      const command = new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(fitForSns(event)), MessageAttributes: fileEventAttributes(event) });
      try {
        const { MessageId } = await sns.send(command, { abortSignal: signal });
        return MessageId;
      } catch (error) {
        if (signal.aborted) throw error;
        throw new TransientFileError(`publishing the completion event ${event.eventId} failed: ${errorMessage(error)}`, { cause: error });
      }
    },
  };
}
