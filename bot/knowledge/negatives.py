"""Sentences that no knowledge-base article answers: the "none" examples.

The nearest-example matcher (:mod:`bot.knowledge.similarity`) compares a
message with these as well as with the articles; a message closer to them
than to any article is less likely to be a support question. The first
groups are the chit-chat and out-of-scope examples of the NLU training data
(``data/nlu/chitchat.yml``); the rest were written for this module:
other companies' products, everyday requests and small talk; questions
about a notes app that no article answers and long off-topic messages that
share everyday words (account, app, phone, password) with the articles;
other companies' products described in the words of Lumen's own topics
(an Apple ID password, a Netflix double charge, a stuck Windows update);
and messages of a few words that name no topic ("not working", "help me").
The last four groups (160 sentences, "round 10") were written by a writer who
saw only the articles and the sentences above: features and services Lumen
has no article about (webhooks, an API rate limit, a Slack integration),
other companies' products and everyday tech problems, small talk, and more
topic-less messages.
"""

from __future__ import annotations

NEGATIVE_EXAMPLES: tuple[str, ...] = (
    # greet
    "hi",
    "hello",
    "hey",
    "hey there",
    "hi there!",
    "hello, anyone there?",
    "good morning",
    "good afternoon",
    "good evening",
    "morning!",
    "hiya",
    "helo",
    "hallo",
    "heyy",
    "yo",
    "howdy",
    "greetings",
    "hi, I need some help",
    "hello Baton",
    "hey, quick question",
    "hi team",
    "hello support",
    "hiya folks",
    "hiya there",
    "heya",
    "hii",
    "hiii",
    "hey hey",
    "hellooo",
    "hola",
    "hi hi",
    "sup",
    "what's up",
    "wassup",
    "yo baton",
    "hey baton",
    "hi Baton, how are you",
    "hello, is this Lumen support?",
    "hey, hope you're well",
    "good morning, I have a question",
    "afternoon",
    "evening all",
    "hi, can you help me",
    "hey there, I could use some help",
    "hello? is anybody here",
    "hi lumen",
    "heyo",
    "g'day",
    "hiya, quick one",
    "hello again",
    "hey, how's it going",
    "hi hi there",
    "hello hello",
    "hey you",
    "good morning Baton",
    "morning team",
    "good afternoon support",
    "hey folks",
    "hiya Baton",
    "hey, morning",
    "hullo",
    "hi, good evening",
    "hey, hello",
    # goodbye
    "bye",
    "goodbye",
    "bye bye",
    "see you",
    "see ya later",
    "cya",
    "talk to you later",
    "have a nice day",
    "good night",
    "that's all, bye",
    "I'm done, goodbye",
    "gotta go",
    "I have to go now",
    "catch you later",
    "farewell",
    "byee",
    "ok bye then",
    "nothing else, have a good one",
    "that will be all for today",
    "I'm leaving now",
    "bye now",
    "goodbye for now",
    "see you around",
    "ttyl",
    "later",
    "laters",
    "bye for now",
    "have a good day",
    "have a great weekend",
    "take care",
    "gnight",
    "night night",
    "signing off",
    "that's it from me, bye",
    "all sorted, bye",
    "I'm off",
    "ciao",
    "adios",
    "ok see you",
    "so long",
    "end chat",
    "I'm closing the chat now",
    "talk soon",
    "until next time",
    "g2g",
    "good bye",
    "buh bye",
    "peace out",
    "im out, bye",
    "that's everything, goodbye",
    "cya later",
    "cya soon",
    "ttyl bye",
    "ciao for now",
    "adios amigo",
    "take care, bye",
    "ok goodbye",
    "bye, have a nice evening",
    "see you next time",
    "goodbye and take care",
    "g2g bye",
    "ok I'm going now, bye",
    # thank
    "thanks",
    "thank you",
    "thx",
    "ty",
    "thank u so much",
    "thanks a lot",
    "many thanks",
    "cheers",
    "much appreciated",
    "thanks for the help",
    "great, thanks!",
    "thank you, that fixed it",
    "awesome thank you",
    "thanks, that's helpful",
    "appreciate it",
    "thnaks",
    "thankyou",
    "you've been very helpful, thanks",
    "perfect, thx",
    "that worked, thanks a bunch",
    "tnx",
    "thank youuu",
    "tysm",
    "thanks so much",
    "thanks loads",
    "cheers mate",
    "ta",
    "thank you very much",
    "thanks baton",
    "thanks for your patience",
    "I appreciate the help",
    "many thanks for the quick answer",
    "you're a star, thanks",
    "thanks, you saved my day",
    "brilliant, thank you",
    "nice one, thanks",
    "thx a lot",
    "thank you kindly",
    "great help, thanks",
    "thanks heaps",
    "grateful for the help",
    "ok thanks",
    "merci",
    "danke",
    "lovely, thanks",
    "big thanks",
    "thank you for sorting that out",
    "really appreciate it",
    "thanks again",
    "ty so much",
    "tyvm",
    "thanx",
    "thnx",
    "merci beaucoup",
    "danke schön",
    "ta very much",
    "thanks, much appreciated",
    "thank you so much for helping",
    "thanks for that",
    "cheers for the help",
    "ok thank you",
    # affirm
    "yes",
    "yes please",
    "yeah",
    "yep",
    "yup",
    "sure",
    "of course",
    "ok",
    "okay",
    "correct",
    "that's right",
    "absolutely",
    "definitely",
    "y",
    "yes it did",
    "yeah that helped",
    "indeed",
    "sounds good",
    "ya",
    "please do",
    "go ahead",
    "yes, that solved it",
    "yea",
    "yeah sure",
    "yes yes",
    "yess",
    "yeah it worked",
    "yes it's fixed now",
    "it worked",
    "that did the trick",
    "yep all good now",
    "sure thing",
    "alright",
    "k",
    "ok sure",
    "yes I would",
    "yes, connect me",
    "yes that would be great",
    "please, yes",
    "certainly",
    "affirmative",
    "right",
    "exactly",
    "i guess so",
    "yeah go for it",
    "do it",
    "agreed",
    "that's correct",
    "yes that's what I meant",
    "fine by me",
    "yes absolutely",
    "yes of course",
    "yeah definitely",
    "yep that's right",
    "that did it",
    "fine with me",
    "sure, go ahead",
    "ok, please do",
    "yes it's working now",
    "yeah, all good",
    "ok that works",
    "sounds great",
    # deny
    "no",
    "nope",
    "nah",
    "no thanks",
    "not really",
    "no it didn't",
    "not at all",
    "n",
    "never mind",
    "no, that didn't help",
    "still not working",
    "that doesn't solve my problem",
    "I don't think so",
    "negative",
    "no way",
    "didn't work",
    "no, it's still broken",
    "not quite",
    "absolutely not",
    "no, I'm fine",
    "noo",
    "nop",
    "no no",
    "nah thanks",
    "no, I'll manage",
    "no need",
    "it did not",
    "didn't help at all",
    "that didn't fix it",
    "same problem as before",
    "still broken",
    "nothing changed",
    "it's still the same",
    "not yet",
    "no, that's wrong",
    "that's not what I asked",
    "no, not that",
    "not necessary",
    "I'd rather not",
    "don't",
    "no, don't do that",
    "wrong",
    "nah it's still happening",
    "nope, didn't work",
    "no that's not it",
    "not helpful",
    "no, I'm good",
    "no, leave it",
    "nope not solved",
    "no absolutely not",
    "nah not really",
    "no, still not working",
    "nope, still the same",
    "no, it's still not syncing",
    "no, the problem is still there",
    "no that didn't work",
    "no, nothing changed",
    "no thank you",
    "nah, I'm good",
    "definitely not",
    "no it doesn't",
    # bot_challenge
    "are you a bot?",
    "are you a human?",
    "am I talking to a bot?",
    "am I talking to a real person?",
    "is this a robot",
    "are you real",
    "r u a bot",
    "who am I chatting with?",
    "who are you?",
    "what are you?",
    "are you an AI",
    "is this an automated chat",
    "is this chatgpt?",
    "are you a machine or a person",
    "is someone actually reading this",
    "you're a bot, right?",
    "what's your name",
    "are u human",
    "is this a chatbot",
    "am i speaking with software",
    "bot?",
    "r u real",
    "are you a real human being",
    "is baton a person",
    "is this automated?",
    "is there a human behind this chat",
    "are these answers automatic",
    "u a robot?",
    "are you artificial intelligence",
    "is this a virtual assistant",
    "what kind of bot are you",
    "who is Baton",
    "what exactly are you, a program?",
    "is a computer answering me",
    "are you a person or a script",
    "are you alive",
    "are you a live agent",
    "am I chatting with a human right now",
    "are you even real lol",
    "is this AI generated",
    "do I talk to a machine here",
    "tell me what you are",
    "are you a real support agent",
    "is this a recording",
    "are you powered by GPT",
    "who made you",
    "am I texting a robot",
    "is this an AI assistant",
    "you sound like a bot",
    "am I talking to a robot",
    "is this a real person or a bot",
    "are you a person?",
    "are you a bot or a human",
    "is this a bot answering",
    "are you a real person",
    "am I chatting with a bot",
    "are you human or AI",
    "is a real person typing this",
    "are you an automated assistant",
    "is this conversation with a machine",
    "are you a human agent or a bot",
    # out_of_scope
    "what's the weather like tomorrow?",
    "will it rain in London today",
    "give me a recipe for lasagna",
    "how do I bake sourdough bread",
    "tell me a joke about football",
    "who won the super bowl",
    "what's the score of the Lakers game",
    "can you book me a flight to Paris",
    "order me a pizza",
    "what's the capital of Australia",
    "what is the meaning of life",
    "recommend a good movie",
    "sing me a song",
    "what's the best stock to buy",
    "how tall is Mount Everest",
    "translate hello into Japanese",
    "what time is it in Tokyo",
    "can you help with my math homework",
    "which team will win the world cup",
    "write me a poem about cats",
    "how many calories in a banana",
    "what should I cook for dinner",
    "who is the president of France",
    "weather forecast for the weekend",
    "is it going to snow",
    "tell me a joke",
    "what's 17 times 23",
    "how do I fix my car's brakes",
    "my printer won't print, can you help",
    "how do I set up my wifi router",
    "can you reset my gmail password",
    "my iphone battery drains fast",
    "write my essay on the french revolution",
    "what's a good name for a dog",
    "where is the nearest pharmacy",
    "book a table for two tonight",
    "how do I lose weight fast",
    "recommend a podcast",
    "what's bitcoin trading at",
    "explain quantum physics to me",
    "who wrote hamlet",
    "how old is the universe",
    "can you call my mom",
    "set an alarm for 7am",
    "play some music",
    "what's the best laptop to buy this year",
    "how do I make a website",
    "can you help me with my excel formula",
    "do you like football",
    "what's your favourite colour",
    "are you single",
    "how do I get a visa for canada",
    "tell me about the history of rome",
    "what's the best burger place near me",
    "my microsoft word file won't open",
    "how do I cut my own hair",
    "who invented the telephone",
    "who painted the mona lisa",
    "who is the richest person in the world",
    "what's the weather in Madrid",
    "weather today",
    "will it be sunny on saturday",
    "recipe for pancakes",
    "how do I cook rice",
    "tell me something funny",
    "tell me a fun fact",
    "what's the population of china",
    "how far is the moon",
    "best restaurants in new york",
    "can you book a hotel for me",
    "my laptop screen is cracked, what do I do",
    "how do I fix my phone's wifi",
    "help me write a cover letter",
    "who will win the election",
    "what's the news today",
    "how do I learn spanish",
    # written for the knowledge base
    "good afternoon",
    "hey, anyone there?",
    "test",
    "asdf",
    "lol",
    "cool thanks",
    "great, that's all",
    "never mind",
    "nothing, just browsing",
    "what's your name",
    "are you a robot or a human",
    "how old are you",
    "do you like music",
    "what's the weather this weekend",
    "who won the game last night",
    "how do I make pancakes",
    "best pizza place near me",
    "book a table for two tonight",
    "how do I change the oil in my car",
    "my washing machine is leaking",
    "my tv remote stopped working",
    "my dog ate my homework",
    "help me write a cover letter",
    "what's a good name for a cat",
    "how far is the moon",
    "convert 50 dollars to euros",
    "what is the square root of 144",
    "tell me a fun fact",
    "recommend a book for the holidays",
    "how do I cancel my phone contract with my carrier",
    "refund for my concert tickets",
    "reset my instagram password",
    "my gmail account was hacked",
    "I can't log in to my online banking",
    "my amazon order never arrived",
    "how do I unsubscribe from spotify premium",
    "my wifi keeps dropping",
    "my iphone battery drains fast",
    "how do I install windows on a new pc",
    "how do I update my graphics drivers",
    "my printer won't connect to the computer",
    "excel keeps crashing when I open a spreadsheet",
    "how do I mute someone on whatsapp",
    "is google down",
    "how do I get a job at a tech company",
    "do you sponsor events",
    "can I visit your office",
    "who founded your company",
    "what are your company's values",
    "are you hiring interns",
    "do you have a referral program for partners",
    "I want to become a reseller",
    "what programming language is your app written in",
    "can you write code for me",
    "what's the meaning of this word",
    "how do I lose weight",
    "I'm bored",
    "sing happy birthday",
    "where can I buy a new laptop",
    "which phone should I buy",
    # notes-app questions the knowledge base does not answer
    "how do I turn on dark mode",
    "can I change the font size in the editor",
    "is there a way to pin a note to the top of the list",
    "how do I insert a table into a note",
    "can I change the colour of a notebook",
    "how do I create a notebook inside another notebook",
    "can I rename a tag everywhere at once",
    "do you have note templates for meeting minutes",
    "does the ipad app support handwriting with the apple pencil",
    "can lumen search for text inside photos",
    "can I record voice memos in a note",
    "is there a home screen widget for android",
    "do you have a public API or a zapier integration",
    "is there a web clipper extension to save articles",
    "can I write math formulas with LaTeX",
    "does the code block support syntax highlighting for python",
    "where can I see the word count of a note",
    "how do I print a note",
    "can I switch the app language to spanish",
    "how do I change my profile picture",
    "can I lock the app with face id",
    "how do I link one note to another",
    "is there a graph view of linked notes like obsidian",
    "can I scan paper documents into a note with my phone camera",
    "can I buy lumen plus as a gift for my sister",
    "do you sell a lifetime license",
    "please add a kanban board view, that would be great",
    "how do I move a note to a different notebook",
    "the spell checker underlines everything in german, can I change its language",
    "does lumen support right to left text for hebrew",
    "does the app work with a screen reader",
    "how do I sort notes by date created instead of title",
    "can I archive old notes so they don't clutter my list",
    "how do I mark a note as a favourite",
    "can I set a default notebook for new notes",
    "can I add emoji to my notebook names",
    "is there a way to draw sketches inside a note",
    "can I make the editor wider, the text column is so narrow",
    "how do I merge two notebooks into one",
    "how do I strike through text in a note",
    (
        "My bank app on my phone asks for a new password every time I open it. I "
        "already changed it twice this week. How do I make it stop?"
    ),
    (
        "I share a Netflix account with my brother and he changed the password without"
        " telling me. Now I can't watch anything on my phone. How should I bring it up"
        " with him?"
    ),
    (
        "I spend way too much time on my phone. My screen time report says six hours a"
        " day. Any tips for cutting down?"
    ),
    (
        "My mum forgot the password to her Facebook account and she can't get into her"
        " old email anymore. How does Facebook recover accounts?"
    ),
    (
        "I'm trying to set up an online account with my electricity provider to see my"
        " bills. Their app says my customer number is invalid. Who should I call?"
    ),
    (
        "My son wants his own phone for his ninth birthday. Is that too early? Which "
        "app should I use to limit his time on it?"
    ),
    (
        "The Uber app charged me twice for the same ride yesterday. I have the receipt"
        " in my email. How do I get them to fix it?"
    ),
    (
        "I need to renew my passport before my trip in March. The government website "
        "wants me to create an account first. How long does the appointment take?"
    ),
    (
        "My Spotify family plan keeps kicking my daughter out of her account on her "
        "tablet. It happens every time she opens the app. Is there a fix?"
    ),
    (
        "My wife and I have two weeks of time off in June. We want to travel around "
        "Italy by train. Which cities should we visit?"
    ),
    (
        "I got a text message saying my Apple ID is locked and I must click a link. Is"
        " that a scam? I don't even use that account much."
    ),
    # other companies' products described in the words of Lumen's topics
    "forgot my apple id password and now my iphone wont let me download anything",
    (
        "How do I recover my Yahoo Mail account? I no longer have the recovery "
        "phone number they have on file."
    ),
    (
        "outlook.com keeps telling me my password is wrong but I literally reset "
        "it an hour ago"
    ),
    "PayPal is supposed to text me a security code to log in but the SMS never arrives",
    "steam guard code not working, cant log into steam on my new pc",
    "instagram wont send me the 6 digit login code, been waiting 20 min already",
    (
        "Google Photos stopped syncing between my Pixel and my laptop, the "
        "browser only shows pictures from last month"
    ),
    (
        "iCloud Drive isn't syncing my Desktop folder between my iMac and my "
        "MacBook, the files just sit there with a little cloud icon"
    ),
    (
        'Dropbox has said "syncing 1,204 files" for two days on my Windows 11 '
        "machine, how do I make it finish"
    ),
    (
        "OneDrive keeps creating duplicate copies of my Excel files with my "
        "computer's name added at the end, why?"
    ),
    (
        "Netflix charged me twice this month, two identical charges of 15.49 on "
        "my card statement"
    ),
    "Disney+ billed me again after I cancelled, how do I get my money back from them",
    (
        "How do I cancel my Amazon Prime membership and get refunded for the "
        "months I didn't use?"
    ),
    "hulu double charged me wtf",
    (
        "I want a refund from Ryanair for a flight THEY cancelled and their "
        "website just loops me back to the booking page"
    ),
    (
        "the Lufthansa app crashes every time I try to check in for my flight "
        "tomorrow morning, any idea?"
    ),
    (
        "My Chase banking app logs me out constantly and asks for a verification "
        "code by text every single time I open it"
    ),
    "Revolut froze my card after I paid for something abroad, how do I unblock it?",
    "barclays app wont open at all since the latest update on my samsung",
    (
        'Facebook locked my account for "suspicious activity" and now wants me to '
        "upload a photo of my ID, is that safe?"
    ),
    (
        "X (twitter) won't let me change the email on my account, says the "
        "address is already in use"
    ),
    "How do I change the email address linked to my PlayStation Network account?",
    "discord says my account has been disabled and I didn't even do anything",
    "WhatsApp backup to Google Drive has been stuck at 0% for hours",
    (
        "Telegram desktop isn't showing the messages I get on my phone, they're "
        "out of sync since yesterday"
    ),
    (
        "Epic Games Launcher just closes by itself since the update, I can't "
        "start Fortnite"
    ),
    (
        "Roblox charged my credit card for Robux my 8 year old bought without "
        "asking, can I get that refunded?"
    ),
    "minecraft java keeps crashing with exit code 1 after i installed some mods",
    (
        "Xbox Game Pass renewed itself even though I turned off auto-renew in my "
        "Microsoft account"
    ),
    (
        "Microsoft Word takes forever to open documents on my work laptop since "
        "the last Office update"
    ),
    (
        'Google Docs keeps saying "trying to connect" and won\'t save my edits, '
        "I'm on good wifi"
    ),
    "How do I cancel Microsoft 365 Family without losing the files I keep in OneDrive?",
    (
        "windows 11 update stuck at 35% for 3 hours now... is it safe to just "
        "turn the pc off??"
    ),
    (
        'macOS Sonoma update failed with "an error occurred while installing the '
        'selected updates", what do I do'
    ),
    (
        "Since the iOS 17 update my iPhone 12 is sluggish and gets warm when I'm "
        "just scrolling"
    ),
    (
        "my android phone says storage full even after I deleted all my photos, "
        '"System" is using 40GB??'
    ),
    (
        "My iCloud storage is full. Do I have to pay Apple for more space or can "
        "I just delete old iPhone backups?"
    ),
    (
        "Gmail says I'm out of storage and I stopped receiving emails, what is "
        "eating my 15 GB"
    ),
    (
        "the HP Smart app can't find my printer on the wifi anymore after the "
        "router was replaced"
    ),
    "Canon printer driver won't install on my Mac, the installer quits halfway through",
    (
        "Verizon charged me a $35 activation fee that the guy in the store "
        "promised would be waived"
    ),
    "is T-Mobile down right now? no signal in Chicago since this morning",
    (
        "What are Vodafone's customer service opening hours? I need to port my "
        "number before Friday"
    ),
    "what time does Xfinity support open on sundays",
    "Is Slack down? Nobody in our company can send messages since 9am",
    "Zoom crashes every single time I try to share my screen on my MacBook Air",
    (
        "Microsoft Teams is eating 3GB of RAM, that's insane for a chat app, how "
        "do I make it lighter?"
    ),
    (
        "Evernote charged me for another year of Personal even though I stopped "
        "using it, how do I get Evernote to refund that renewal?"
    ),
    (
        "Notion won't load for me, just the spinning logo forever. Is Notion "
        "having an outage today?"
    ),
    (
        "OneNote on my iPad shows sync error 0xE0000024 on our shared SharePoint "
        "notebook at work"
    ),
    "how do I switch my Obsidian Sync subscription from monthly to yearly billing",
    (
        "Todoist reminders stopped showing up on my Android right after I "
        "upgraded to Todoist Pro"
    ),
    (
        "Spotify won't let me log in with Facebook anymore since I deleted my FB "
        "account, how do I get my playlists back"
    ),
    (
        "YouTube Premium family plan invite says the link expired, how do I send "
        "my sister a new one"
    ),
    "my Audible credits disappeared after I paused my membership, where did they go",
    "Kindle app isn't syncing the last page I read between my phone and my Paperwhite",
    (
        "Duolingo streak freeze didn't work and I lost my 400 day streak!! can "
        "Duolingo support restore it?"
    ),
    "Garmin Express says it can't find my watch when I try to update the firmware",
    (
        "Adobe wants a 50% early termination fee to cancel my Creative Cloud "
        "annual plan, is that even legal?"
    ),
    (
        "Canva Pro charged me after the free trial ended, I had no idea it would "
        "auto renew"
    ),
    (
        "hi, I forgot to cancel my LinkedIn Premium trial and got charged $39.99, "
        "can LinkedIn refund it?"
    ),
    (
        "my Coinbase account is restricted and I can't withdraw anything, their "
        "support only sends bot replies"
    ),
    (
        "Google account recovery keeps saying \"Google couldn't verify this "
        "account belongs to you\", I've tried 6 times"
    ),
    "Samsung account password reset email never arrives, checked spam and everything",
    "Proton Mail Bridge stopped syncing with Thunderbird after I updated it",
    (
        "Apple support chat hours in the UK? I need to talk to a real person "
        "about my AirPods warranty"
    ),
    (
        "Booking.com charged my card 240 euros even though the hotel said free "
        "cancellation, who refunds me, booking or the hotel?"
    ),
    "my Nintendo Switch eshop purchase went through twice, same game, two charges",
    "Venmo says my payment was declined but the money still left my bank account",
    (
        "Hello, I am writing because my husband's Hotmail was hacked last week "
        "and the hacker changed the phone number and the recovery email, "
        "Microsoft keeps sending the codes to the hacker's number, we have 15 "
        "years of family photos attached to emails in there, is there any way to "
        "talk to a human at Microsoft?"
    ),
    # a few words that name no topic at all
    "problem",
    "I have a problem",
    "not working",
    "it's not working!!",
    "doesnt work",
    "help me",
    "help pls",
    "HELP",
    "someone help",
    "this is useless",
    "useless bot",
    "helloooo??",
    "urgent",
    "very urgent please",
    "it broke again",
    "broken",
    "ugh",
    "seriously?",
    "wtf",
    "omg",
    "so annoying",
    "this is ridiculous",
    "something's wrong",
    "huh?",
    "it happened again",
    "why",
    "nothing works",
    "doesn't do anything",
    "fix this",
    "is this normal?",
    # notes-app questions the knowledge base does not answer (round 10)
    (
        "do you guys have webhooks? want to ping our CRM whenever a note in the "
        "sales notebook changes"
    ),
    (
        "our script hitting the lumen api keeps getting 429 too many requests, whats "
        "the actual rate limit"
    ),
    (
        "Is there an official Slack integration so I can save a Slack message "
        "straight into a Lumen notebook?"
    ),
    "can my lumen reminders show up in google calendar as events",
    (
        "Is there a special email address I can forward newsletters to so they land "
        "in Lumen as notes?"
    ),
    (
        'does lumen work with siri shortcuts? I want to say "hey siri, new lumen '
        'note" while driving'
    ),
    (
        "Any plans for an Apple Watch app? would love to dictate quick thoughts from "
        "my wrist"
    ),
    (
        "Can we host Lumen on our own servers? Our security team refuses any cloud "
        "note tool, it has to be on-premise."
    ),
    (
        "Do you have a VPAT or WCAG 2.1 AA conformance report? Our university "
        "procurement office won't sign off without one."
    ),
    (
        "is there a high contrast mode? my eyesight is going and the light grey text "
        "is really hard to read"
    ),
    (
        "Can I switch the editor font to OpenDyslexic? I'm dyslexic and it makes a "
        "huge difference for me"
    ),
    "can lumen read my notes out loud to me, like text to speech",
    (
        "vim keybindings in the editor?? pretty please, I keep typing :wq into my "
        "notes lol"
    ),
    (
        "When I type Japanese with the IME the first character gets duplicated after "
        "I press enter to confirm the kanji. happens on mac and windows"
    ),
    "can I load my own custom CSS to restyle the app",
    (
        "are there any other colour themes, like sepia or nord? the default look is "
        "a bit bland"
    ),
    "how do i make the line spacing bigger, everything feels so cramped",
    "Can I turn off all the animations? The sliding panels make me motion sick",
    (
        "Where can I see your product roadmap? I'd like to know what's coming this "
        "year before our team renews"
    ),
    "how do I duplicate a note? I want to copy my weekly template without retyping it",
    (
        "Where do I submit a feature request, and can I upvote other people's ideas "
        "somewhere?"
    ),
    (
        "do you run a bug bounty program? think I found an XSS issue and want to "
        "report it properly"
    ),
    (
        "Are you hiring? I'm a frontend dev based in Lisbon, love the app, but "
        "couldn't find a careers page anywhere"
    ),
    (
        "i applied for the product designer job 3 weeks ago and never heard anything "
        "back, who can I ask about it"
    ),
    (
        "Do you have an affiliate program? I run a productivity YouTube channel with "
        "about 80k subscribers and recommend Lumen a lot"
    ),
    (
        "We're a small IT consultancy and would like to become an official Lumen "
        "implementation partner. Who handles partnerships?"
    ),
    (
        "Hi, I'm a journalist writing a piece on note-taking apps, who should I "
        "contact for a press inquiry or a press kit?"
    ),
    (
        "Am I allowed to use the Lumen logo in the thumbnail of a tutorial video I'm "
        "making?"
    ),
    (
        "will you ever do a lifetime deal on appsumo or similar, I'm so tired of "
        "subscriptions"
    ),
    "any black friday or cyber monday sale this year? thinking of getting plus",
    "my promo code from the podcast ad says invalid at checkout",
    "Do you have a refer a friend thing where we both get a free month?",
    (
        "Is there a family plan? I'd like to share Plus with my wife and our two "
        "teenagers without paying for four accounts"
    ),
    (
        "Do you do regional pricing for Brazil? $6 a month is a lot here with the "
        "exchange rate"
    ),
    (
        "We're looking at roughly 1,500 seats. Is there an enterprise tier with a "
        "volume discount and our own MSA?"
    ),
    (
        "Can your security team fill out our vendor risk questionnaire (CAIQ lite)? "
        "Procurement needs it before we buy"
    ),
    (
        "Is Lumen HIPAA compliant and will you sign a BAA? I'm a therapist and want "
        "to keep session notes in it"
    ),
    "where can I find your list of subprocessors, our DPO is asking",
    "Do you hold an ISO 27001 certificate? our public tender requires it",
    (
        "Is there an audit log in the admin console showing which member exported or "
        "deleted which notes?"
    ),
    (
        "can we have separate workspaces for marketing and engineering but pay with "
        "one company bill"
    ),
    "can I see how many people opened my shared link, like view stats",
    (
        "Can I publish a notebook as a public website on my own domain, like "
        "docs.mycompany.com?"
    ),
    "does lumen render mermaid diagrams",
    "can I add footnotes to a note? writing academic stuff",
    (
        "Is there a daily notes feature that creates a new journal entry every "
        "morning automatically?"
    ),
    "can reminders repeat? like every monday 9am for my weekly report",
    "is there search syntax like tag:work or created:2023 to narrow down results",
    "Can Lumen transcribe my recorded lectures into text?",
    (
        "Does Lumen have some AI that can summarise my meeting notes? saw someone "
        "mention a Labs thing on twitter"
    ),
    "do you have a vs code extension, want my notes right next to my code",
    "command line tool for lumen? I want to append a line to a note from my terminal",
    (
        "Does Lumen integrate with Zotero? Writing my thesis and I need my citations "
        "linked to my reading notes"
    ),
    "git sync?? would love my notes versioned in a private github repo",
    (
        "can I be logged into my work and my personal lumen accounts at once and "
        "switch between them without signing out every time"
    ),
    (
        "I accidentally made two accounts, one with Google and one with my email. "
        "Can you merge them into one so I don't lose anything?"
    ),
    "how do I change the name other people see when I leave comments on shared notes",
    (
        "can I change the date format to day/month/year? everything shows in "
        "american format and it confuses me"
    ),
    "Is there a Lumen app for Huawei phones? we don't have Google Play on ours",
    "Do you have an app for Apple Vision Pro?",
    "can I react with emoji to comments instead of replying every time",
    "Is there a beta or TestFlight program I can join to try new features early?",
    (
        "Is there an official Lumen forum, Discord server or subreddit where users "
        "help each other?"
    ),
    (
        "do you offer a live onboarding webinar for our team? 40 people starting "
        "next month and most never used a notes app"
    ),
    (
        "is lumen open source? i'd like to look at the code before trusting it with "
        "my journal"
    ),
    (
        "Can I lock one specific note with its own password? It's my diary and my "
        "roommate sometimes uses my laptop"
    ),
    "Is there a Jira or Confluence integration so I can link notes to tickets?",
    "can my Readwise highlights sync into Lumen",
    "can I sign up with my github account instead of an email",
    (
        "Does the iOS app support Intune app protection policies? Our MDM team wants "
        "to block copy/paste into personal apps"
    ),
    # other companies' products and everyday tech problems (round 10)
    (
        "Bear notes aren't syncing between my iPhone and my Mac anymore, iCloud is "
        "on for both"
    ),
    (
        "forgot the password for my locked notes in Apple Notes, is there any way to "
        "open them"
    ),
    (
        "Google Keep reminders never go off on my Pixel 8 even though notifications "
        "are allowed"
    ),
    "Joplin sync with my Nextcloud keeps failing with a 423 locked error",
    "I deleted a note in Simplenote by accident, how do I get it back from their trash",
    (
        "GoodNotes charged me for version 6 even though I paid for 5 ages ago, how "
        "do I get a refund from them"
    ),
    (
        "my debit card got blocked after I typed the wrong PIN three times at the "
        "ATM, how long until it unblocks"
    ),
    (
        'Apple Pay keeps saying "card declined" at the supermarket but the '
        "physical card works fine"
    ),
    (
        "My Monzo card was declined on a foreign website, do I need to turn "
        "something on in their app?"
    ),
    'iOS update has been stuck on "preparing update" all night on my iPhone 13',
    (
        "my samsung galaxy is stuck in a boot loop after the one ui update, will I "
        "lose my photos"
    ),
    'Pixel says "installation problem" every time it tries the monthly system update',
    "Brother printer shows offline in Windows 11 even though it's on the same wifi",
    "epson printer prints blank pages after I changed the ink cartridges",
    (
        "laptop says connected to wifi but no internet, phone works fine on the same "
        "network"
    ),
    "my old laptop doesnt see the 5GHz wifi network at all, only the 2.4 one",
    "Gmail isn't receiving any emails from my kid's school, they're not in spam either",
    (
        'Outlook desktop app stuck on "trying to connect" since this morning, '
        "webmail works fine"
    ),
    (
        "How do I create an app-specific password for my iCloud mail so Thunderbird "
        "can sign in?"
    ),
    (
        'App Store keeps asking "verification required" even for free apps, I '
        "don't want to add a card"
    ),
    (
        "google play says my payment was declined when I try to buy an app, card is "
        "fine everywhere else"
    ),
    (
        "my kid bought 50 euros of gems in a game on my ipad, how do I ask Apple for "
        "that money back"
    ),
    "Apple Music family sharing isn't working, my son still gets asked to subscribe",
    "Max (HBO) keeps logging me out on my Samsung smart TV every couple of days",
    (
        "Netflix says my TV isn't part of my household and blocks me while I'm at my "
        "parents' place"
    ),
    "Prime Video keeps buffering on my Fire Stick, but YouTube streams fine",
    "Crunchyroll charged me after the free trial, I was sure I cancelled it",
    "my phone can't find the chromecast anymore since the router update",
    (
        "Bitwarden on my phone doesn't show the passwords I saved in the browser "
        "extension yesterday"
    ),
    "I forgot my LastPass master password, can they reset it or is everything gone",
    (
        "how do I move my Google Authenticator codes to my new iPhone, the old one "
        "still works"
    ),
    (
        'Microsoft account locked for "unusual sign-in activity" and it wants to '
        "text a number I don't have anymore"
    ),
    (
        "Amazon put my account on hold and wants me to verify my identity with a "
        "utility bill"
    ),
    (
        "Airbnb host cancelled two days before the trip, how long does Airbnb take "
        "to refund"
    ),
    (
        "Windows Hello PIN stopped working after the last update, just says "
        '"something went wrong"'
    ),
    (
        'Time Machine backups on my Mac keep failing with "the backup disk could '
        'not be found"'
    ),
    (
        'Google Drive for desktop has been stuck on "syncing" for three days on my '
        "Windows PC"
    ),
    "Firefox Sync isn't bringing my bookmarks across to my new laptop",
    "my Fitbit won't sync with the app since I updated my phone",
    "Trello says I don't have permission to view a board my coworker shared with me",
    # small talk and personal requests (round 10)
    "how do I keep basil alive on my windowsill, mine always dies within a week",
    "my girlfriend is mad because I forgot our anniversary, what should I do",
    "any tips for a job interview tomorrow? I'm super nervous",
    "can you explain photosynthesis simply, it's for my 6th grade science homework",
    "who do you think wins wimbledon this year",
    "what's a good chess opening for beginners",
    "is a tomato a fruit or a vegetable",
    "write me a limerick about mondays",
    "help me plan a birthday party for my 5 year old, about 10 kids are coming",
    "do you ever dream?",
    "how's your day going",
    "i'm feeling kind of lonely today, can we just chat",
    "whats your favourite food",
    "rock paper scissors, I pick rock",
    "just testing to see if this thing works",
    "testing 1 2 3",
    "knock knock",
    "do you speak french? parlez-vous français?",
    "best hiking trails near munich for a weekend",
    "how long do I boil an egg for a runny yolk",
    "should I text my ex? it's been 3 months",
    "my roommate never does the dishes, how do I bring it up without a fight",
    "how many players are on a rugby union team",
    "who won the f1 race on sunday",
    "recommend a board game for 4 adults",
    "how do I get rid of hiccups",
    "what's 30 celsius in fahrenheit",
    "can you balance this chemical equation for me: H2 + O2 -> H2O",
    "is it going to be hot in Barcelona in August?",
    "tell me a riddle",
    # a few words that name no topic (round 10)
    "any update?",
    "so?",
    "pls respond",
    "still waiting",
    "and now?",
    "what now",
    "same issue",
    "again??",
    "it stopped",
    "not again",
    "can you check",
    "any news?",
    "well?",
    "it's doing it again",
    "that's it?",
    "hurry up please",
    "is it fixed yet",
    "one more thing",
    "wait what",
    "anyone?",
)
